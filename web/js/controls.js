//! Header controls: time-range selector, theme toggle and the live-connection indicator.

const RANGES = ['1h', '6h', '24h', 'all'];
const CONN_TEXT = { live: 'live', connecting: 'connecting…', down: 'disconnected — reconnecting…' };

function store(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage may be off */ }
}
function stored(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

export function initControls({ onRange, onTheme }) {
  let range = RANGES.includes(stored('netsnoop-range')) ? stored('netsnoop-range') : '1h';
  const buttons = document.querySelectorAll('#range [data-range]');
  const mark = () => buttons.forEach((b) => b.setAttribute('aria-pressed', String(b.dataset.range === range)));
  mark();
  buttons.forEach((b) => b.addEventListener('click', () => {
    if (b.dataset.range === range) return;
    range = b.dataset.range;
    store('netsnoop-range', range);
    mark();
    onRange(range);
  }));

  const root = document.documentElement;
  document.getElementById('theme-toggle').addEventListener('click', () => {
    root.dataset.theme = root.dataset.theme === 'dark' ? 'light' : 'dark';
    store('netsnoop-theme', root.dataset.theme);
    onTheme();
  });

  const conn = document.getElementById('conn');
  const connText = conn.querySelector('.conn-text');
  return {
    get range() { return range; },
    connection(state) {
      conn.dataset.state = state;
      connText.textContent = CONN_TEXT[state] || state;
    },
  };
}
