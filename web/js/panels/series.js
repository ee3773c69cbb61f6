//! A rolling window of system samples shared by the live host charts.

const MAX_POINTS = 900; // 15 minutes of 1 s ticks

export class SampleWindow {
  constructor() {
    this.samples = [];
  }

  /** Replaces the window with server history (oldest first after sorting). */
  reset(samples) {
    this.samples = samples.filter((s) => Number.isFinite(s.t)).sort((a, b) => a.t - b.t).slice(-MAX_POINTS);
  }

  /** Appends a live sample; ignores repeats and out-of-order ticks. */
  push(s) {
    if (!s || !Number.isFinite(s.t)) return false;
    const last = this.samples[this.samples.length - 1];
    if (last && s.t <= last.t) return false;
    this.samples.push(s);
    if (this.samples.length > MAX_POINTS) this.samples.shift();
    return true;
  }

  points(read) {
    return this.samples.map((s) => ({ x: s.t, y: read(s) }));
  }

  get latest() {
    return this.samples[this.samples.length - 1] || null;
  }
}
