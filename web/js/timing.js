//! Small timing helpers: debounce and a repeating timer that skips overlapping runs.

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** Calls `fn` every `ms`; if the previous call's promise is still pending, skips this turn. */
export function every(ms, fn) {
  let busy = false;
  return setInterval(async () => {
    if (busy) return;
    busy = true;
    try { await fn(); } finally { busy = false; }
  }, ms);
}

/** Runs `fn` at once, then at most once per `ms` (a trailing call catches the last change). */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
    }
  };
}
