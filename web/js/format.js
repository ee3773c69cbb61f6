//! Number, size and time formatting shared by the panels (pure functions, unit-tested in node).

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** 1536 → "1.5 KB": the B/KB/MB/GB scale of the original NetWatch dashboard (base 1024). */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  while (n >= 1024 && i < UNITS.length - 1) { n /= 1024; i += 1; }
  const digits = i === 0 || n >= 100 ? 0 : n >= 10 ? 1 : 2;
  return `${n.toFixed(digits)} ${UNITS[i]}`;
}

/** 1234567 → "1,234,567". */
export function formatCount(n) {
  if (!Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

/** 12.345 → "12.3%". */
export function formatPct(n) {
  if (!Number.isFinite(n)) return '–';
  return `${n.toFixed(n >= 100 ? 0 : 1)}%`;
}

/**
 * Any timestamp the API may send → epoch milliseconds, or NaN. Accepts RFC 3339 strings and
 * numbers in seconds, milliseconds or microseconds (told apart by magnitude).
 */
export function toMillis(ts) {
  if (ts === null || ts === undefined || ts === '') return NaN;
  if (typeof ts === 'number') {
    const a = Math.abs(ts);
    if (a > 1e14) return ts / 1000; // microseconds
    if (a > 1e11) return ts; // milliseconds
    return ts * 1000; // seconds
  }
  if (typeof ts === 'string' && /^-?\d+(\.\d+)?$/.test(ts)) return toMillis(Number(ts));
  return Date.parse(ts);
}

const pad = (n) => String(n).padStart(2, '0');

/** Local wall-clock time, "14:03:07". */
export function formatClock(ms) {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local date and time, "2026-11-21 14:03:07". */
export function formatDateTime(ms) {
  if (!Number.isFinite(ms)) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(ms)}`;
}

/** "5 s ago", "3 min ago", "2 h ago", relative to `now`. */
export function formatAgo(ms, now = Date.now()) {
  if (!Number.isFinite(ms)) return '–';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/** Seconds → "3 h 12 min" (for uptime). */
export function formatDuration(secs) {
  if (!Number.isFinite(secs)) return '–';
  const s = Math.floor(secs);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
