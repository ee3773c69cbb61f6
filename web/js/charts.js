//! Chart.js wrappers: one place for chart defaults, theme colors and the severity palette.

const charts = new Set();

/** Loads the vendored Chart.js (a classic script) and resolves once `window.Chart` exists. */
export function loadChartLib(src) {
  if (window.Chart) return Promise.resolve(window.Chart);
  return new Promise((resolve, reject) => {
    const el = document.createElement('script');
    el.src = src;
    el.async = true;
    el.onload = () => (window.Chart ? resolve(window.Chart) : reject(new Error(`${src} did not define Chart`)));
    el.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(el);
  });
}

/** The original NetSnoop palette, plus a blue-grey for info. EXTREME is a label, not a severity. */
export const SEVERITY_COLORS = {
  critical: '#f44336',
  high: '#ff9800',
  medium: '#ffc107',
  low: '#4caf50',
  info: '#607d8b',
  extreme: '#9c27b0',
};
export const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** The color an alert is drawn in: its label's when that is EXTREME, else its severity's. */
export function alertColor(a) {
  if (a.label && a.label.toLowerCase() === 'extreme') return SEVERITY_COLORS.extreme;
  return SEVERITY_COLORS[a.severity] || SEVERITY_COLORS.info;
}

export const SERIES = ['#2f80ed', '#27ae60', '#eb5757', '#f2994a', '#9b51e0', '#56ccf2', '#bb6bd9', '#6fcf97'];

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function themed() {
  return { text: css('--muted'), grid: css('--grid'), fg: css('--fg'), card: css('--card') };
}

function baseOptions(extra = {}) {
  const t = themed();
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    normalized: true,
    interaction: { mode: 'index', intersect: false },
    plugins: {
      legend: { labels: { color: t.text, boxWidth: 12, boxHeight: 12 } },
      tooltip: { enabled: true },
    },
    ...extra,
  };
}

function axis(opts = {}) {
  const t = themed();
  return { grid: { color: t.grid }, ticks: { color: t.text, maxRotation: 0, autoSkipPadding: 16 }, border: { color: t.grid }, ...opts };
}

/** Creates and registers a chart on `canvas`; returns the Chart instance. */
export function makeChart(canvas, config) {
  const chart = new window.Chart(canvas, config);
  charts.add(chart);
  return chart;
}

/** A time-series line/area chart; x values are epoch milliseconds. */
export function timeChart(canvas, datasets, { yTicks, y1Ticks, stacked = false, yMax } = {}) {
  const scales = {
    x: axis({ type: 'linear', ticks: { ...axis().ticks, callback: (v, _i, ticks) => clockTick(v, spanOf(ticks)) } }),
    y: axis({ beginAtZero: true, stacked, max: yMax, ticks: { ...axis().ticks, callback: yTicks } }),
  };
  if (y1Ticks) scales.y1 = axis({ position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { ...axis().ticks, callback: y1Ticks } });
  return makeChart(canvas, {
    type: 'line',
    data: {
      datasets: datasets.map((d) => ({
        // Points only while there are too few to draw a line.
        pointRadius: (ctx) => (ctx.dataset.data.length < 3 ? 3 : 0),
        borderWidth: 1.5,
        tension: 0.25,
        parsing: false,
        ...d,
      })),
    },
    options: baseOptions({
      scales,
      plugins: {
        legend: { ...baseOptions().plugins.legend, display: datasets.length > 1 },
        tooltip: { callbacks: { title: (items) => (items.length ? clockTick(items[0].parsed.x, 0) : '') } },
      },
    }),
  });
}

const spanOf = (ticks) => (ticks.length > 1 ? ticks[ticks.length - 1].value - ticks[0].value : 0);

/** A time label as precise as the axis needs: seconds for short spans, the date for long ones. */
function clockTick(v, span) {
  const d = new Date(v);
  const p = (n) => String(n).padStart(2, '0');
  const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
  if (span < 15 * 60e3) return `${hm}:${p(d.getSeconds())}`;
  if (span > 36 * 3600e3) return `${d.getMonth() + 1}/${d.getDate()} ${hm}`;
  return hm;
}

/** Redraws a time chart with its x axis fitted to the data (Chart.js pads to round ticks). */
export function redraw(chart) {
  let min = Infinity;
  let max = -Infinity;
  for (const d of chart.data.datasets) {
    if (!d.data.length) continue;
    min = Math.min(min, d.data[0].x);
    max = Math.max(max, d.data[d.data.length - 1].x);
  }
  const x = chart.options.scales.x;
  if (!Number.isFinite(min)) {
    // Nothing yet: show the last five minutes rather than an axis around 1970.
    max = Date.now();
    min = max - 5 * 60e3;
  } else if (max - min < 60e3) {
    // One point (or a few close ones): give it a minute either side so it is visible.
    min -= 60e3;
    max += 60e3;
  }
  x.min = min;
  x.max = max;
  chart.update('none');
}

/** A donut chart. */
export function donutChart(canvas) {
  return makeChart(canvas, {
    type: 'doughnut',
    data: { labels: [], datasets: [{ data: [], backgroundColor: SERIES, borderWidth: 2 }] },
    options: baseOptions({ cutout: '62%', interaction: { mode: 'nearest' }, plugins: { legend: { position: 'right', labels: baseOptions().plugins.legend.labels } } }),
  });
}

/** A horizontal bar chart, labels on the left. */
export function hbarChart(canvas, { ticks } = {}) {
  return makeChart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [{ data: [], backgroundColor: SERIES[0], borderRadius: 3, maxBarThickness: 22 }] },
    options: baseOptions({
      indexAxis: 'y',
      interaction: { mode: 'nearest', axis: 'y', intersect: false },
      plugins: { legend: { display: false } },
      scales: { x: axis({ beginAtZero: true, ticks: { ...axis().ticks, precision: 0, callback: ticks } }), y: axis({ grid: { display: false } }) },
    }),
  });
}

/** A stacked vertical bar chart over category labels. */
export function stackedBarChart(canvas, series) {
  return makeChart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: series.map((s) => ({ data: [], borderRadius: 2, ...s })) },
    options: baseOptions({
      scales: { x: axis({ stacked: true, grid: { display: false } }), y: axis({ stacked: true, beginAtZero: true, ticks: { ...axis().ticks, precision: 0 } }) },
    }),
  });
}

/** Re-reads theme colors into every chart (after the theme toggles). */
export function retheme() {
  const t = themed();
  for (const chart of charts) {
    const o = chart.options;
    if (o.plugins?.legend?.labels) o.plugins.legend.labels.color = t.text;
    for (const scale of Object.values(o.scales || {})) {
      if (scale.grid) scale.grid.color = t.grid;
      if (scale.ticks) scale.ticks.color = t.text;
      if (scale.border) scale.border.color = t.grid;
    }
    if (chart.config.type === 'doughnut') chart.data.datasets[0].borderColor = t.card;
    chart.update('none');
  }
}
