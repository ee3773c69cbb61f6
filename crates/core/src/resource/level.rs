//! One alert level as a small state machine: when it opens (at once, after N samples or
//! after a sustained time), and when it clears (hysteresis, hold time, then cooldown).

use crate::Ts;
use crate::time::Span;

/// What it takes for a level to open once the value is above its threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Onset {
    /// The first sample above opens it.
    Immediate,
    /// This many consecutive samples above.
    Samples(u32),
    /// Above without a break for at least this long, counted from the start of the
    /// first sampling interval that was above.
    Sustained(Span),
}

/// The thresholds and timings of one level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LevelRule {
    /// Opens when the value is strictly above this.
    pub above: f64,
    /// Once open, clears only when the value is strictly below this (a little lower than
    /// `above`), so a value wobbling around the threshold stays one episode.
    pub clear_below: f64,
    pub onset: Onset,
    /// How long the value must stay below `clear_below` before the level resolves.
    pub hold: Span,
    /// After resolving, the level cannot open again for this long.
    pub cooldown: Span,
}

/// What one observation did to a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Not open, and did not open.
    Quiet,
    /// Opened now.
    Open,
    /// Was open and stays open.
    Active,
    /// Was open and resolved now.
    Resolve,
}

/// The state of one level for one subject (a process, or the host).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LevelState {
    active: bool,
    /// While closed: the start of the run of samples above the threshold.
    above_since: Option<Ts>,
    consecutive: u32,
    /// While open: when the value first fell below the clear threshold.
    below_since: Option<Ts>,
    quiet_until: Option<Ts>,
    opened_at: Option<Ts>,
    peak: f64,
}

impl LevelState {
    /// Feeds one sample taken at `now`, covering the interval that began at
    /// `interval_start` (the previous sample's time, or `now` for the first one).
    pub fn observe(&mut self, rule: &LevelRule, value: f64, interval_start: Ts, now: Ts) -> Step {
        if self.active {
            self.peak = self.peak.max(value);
            if value < rule.clear_below {
                let since = *self.below_since.get_or_insert(now);
                if now - since >= rule.hold {
                    self.close(rule, now);
                    return Step::Resolve;
                }
            } else {
                self.below_since = None;
            }
            return Step::Active;
        }
        if value <= rule.above {
            self.consecutive = 0;
            self.above_since = None;
            return Step::Quiet;
        }
        self.consecutive = self.consecutive.saturating_add(1);
        let since = *self.above_since.get_or_insert(interval_start);
        let ready = match rule.onset {
            Onset::Immediate => true,
            Onset::Samples(n) => self.consecutive >= n,
            Onset::Sustained(d) => now - since >= d,
        };
        let cooled = self.quiet_until.is_none_or(|q| now >= q);
        if ready && cooled {
            self.active = true;
            self.below_since = None;
            self.opened_at = Some(now);
            self.peak = value;
            return Step::Open;
        }
        Step::Quiet
    }

    /// Ends an open level without a sample (the process exited, the monitor stops).
    pub fn force_close(&mut self, rule: &LevelRule, now: Ts) -> bool {
        let was = self.active;
        if was {
            self.close(rule, now);
        }
        was
    }

    fn close(&mut self, rule: &LevelRule, now: Ts) {
        self.active = false;
        self.consecutive = 0;
        self.above_since = None;
        self.below_since = None;
        self.quiet_until = Some(now + rule.cooldown);
    }

    pub fn is_active(&self) -> bool {
        self.active
    }

    /// Nothing to remember: closed, not counting a run, no cooldown pending at `now`.
    pub fn is_idle(&self, now: Ts) -> bool {
        !self.active && self.consecutive == 0 && self.quiet_until.is_none_or(|q| now >= q)
    }

    /// Seconds the value has been above, from the start of the run to `now`.
    pub fn above_for_secs(&self, now: Ts) -> f64 {
        self.above_since.map_or(0.0, |s| now.since(s))
    }

    /// Consecutive samples above in the current run.
    pub fn consecutive(&self) -> u32 {
        self.consecutive
    }

    /// The highest value seen while open.
    pub fn peak(&self) -> f64 {
        self.peak
    }

    pub fn opened_at(&self) -> Option<Ts> {
        self.opened_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(onset: Onset) -> LevelRule {
        LevelRule {
            above: 90.0,
            clear_below: 85.0,
            onset,
            hold: Span::secs(0),
            cooldown: Span::secs(5),
        }
    }

    fn run(rule: &LevelRule, values: &[f64]) -> Vec<Step> {
        let mut s = LevelState::default();
        let mut prev = Ts::from_secs(0);
        values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let now = Ts::from_secs(i as i64 + 1);
                let step = s.observe(rule, *v, prev, now);
                prev = now;
                step
            })
            .collect()
    }

    use Step::*;

    #[test]
    fn an_immediate_level_opens_on_the_first_sample_above() {
        assert_eq!(run(&rule(Onset::Immediate), &[50.0, 91.0]), [Quiet, Open]);
    }

    #[test]
    fn a_value_exactly_at_the_threshold_does_not_open() {
        assert_eq!(run(&rule(Onset::Immediate), &[90.0]), [Quiet]);
    }

    #[test]
    fn a_counted_level_needs_consecutive_samples_and_a_dip_restarts_the_count() {
        let r = rule(Onset::Samples(3));
        assert_eq!(
            run(&r, &[95.0, 95.0, 50.0, 95.0, 95.0, 95.0]),
            [Quiet, Quiet, Quiet, Quiet, Quiet, Open]
        );
    }

    #[test]
    fn a_sustained_level_counts_time_from_the_start_of_the_first_interval_above() {
        let r = rule(Onset::Sustained(Span::secs(5)));
        // Above from the interval (0,1] on: 5 s are reached at t=5.
        assert_eq!(
            run(&r, &[95.0; 6]),
            [Quiet, Quiet, Quiet, Quiet, Open, Active]
        );
    }

    #[test]
    fn hysteresis_keeps_a_wobbling_value_in_one_episode() {
        let steps = run(
            &rule(Onset::Immediate),
            &[91.0, 89.0, 91.0, 89.0, 91.0, 89.0],
        );
        assert_eq!(steps, [Open, Active, Active, Active, Active, Active]);
    }

    #[test]
    fn it_resolves_below_the_clear_threshold_and_then_cools_down() {
        let steps = run(
            &rule(Onset::Immediate),
            &[95.0, 80.0, 95.0, 95.0, 95.0, 95.0, 95.0, 95.0],
        );
        // Resolved at t=2, cooldown 5 s: may reopen from t=7.
        assert_eq!(
            steps,
            [Open, Resolve, Quiet, Quiet, Quiet, Quiet, Open, Active]
        );
    }

    #[test]
    fn the_hold_time_ignores_a_short_dip() {
        let r = LevelRule {
            hold: Span::secs(2),
            ..rule(Onset::Immediate)
        };
        let steps = run(&r, &[95.0, 80.0, 80.0, 95.0, 80.0, 80.0, 80.0]);
        assert_eq!(
            steps,
            [Open, Active, Active, Active, Active, Active, Resolve]
        );
    }

    #[test]
    fn the_peak_is_the_highest_value_while_open() {
        let r = rule(Onset::Immediate);
        let mut s = LevelState::default();
        s.observe(&r, 91.0, Ts::from_secs(0), Ts::from_secs(1));
        s.observe(&r, 99.0, Ts::from_secs(1), Ts::from_secs(2));
        s.observe(&r, 92.0, Ts::from_secs(2), Ts::from_secs(3));
        assert_eq!(s.peak(), 99.0);
        assert!(s.force_close(&r, Ts::from_secs(4)));
        assert!(!s.is_active());
        assert!(!s.is_idle(Ts::from_secs(5)), "cooling down");
        assert!(s.is_idle(Ts::from_secs(9)));
    }
}
