//! DOM helpers that only ever insert data as text: the one way panels build markup.

// Attributes that could turn data into code or a navigation; data never goes there.
const FORBIDDEN_ATTR = /^(on|style$|srcdoc$|href$|src$|action$|formaction$|xlink:href$)/i;

/**
 * Builds an element. `props` holds `class`, `text`, `title`, `dataset`, `attrs`, `on`;
 * children may be nodes, strings or numbers (strings become text nodes, never markup),
 * arrays of those, or null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'title') el.title = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'attrs') setAttrs(el, value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else throw new Error(`h(): unknown prop ${key}`);
  }
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (FORBIDDEN_ATTR.test(name)) throw new Error(`h(): attribute ${name} is not allowed for data`);
    if (value === false || value === null || value === undefined) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el` with `children` (same rules as `h`). */
export function fill(el, ...children) {
  const frag = document.createDocumentFragment();
  append(frag, children);
  el.replaceChildren(frag);
  return el;
}

/** The element in `root` marked `data-slot=name`. */
export function slot(root, name) {
  return root.querySelector(`[data-slot="${name}"]`);
}

/** A muted one-line placeholder for an empty panel. */
export function empty(text) {
  return h('p', { class: 'empty', text });
}

/** Sets a value only when it changed, so live ticks do not thrash layout. */
export function setText(el, text) {
  const s = String(text);
  if (el.textContent !== s) el.textContent = s;
}
