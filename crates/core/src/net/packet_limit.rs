//! The rate limiter on packets stored one by one: at most N a second, spread evenly over
//! the second when the rate is higher. Rollups count every packet, so statistics stay
//! exact; only the recent-packets table is sampled.

use super::config::SamplerConfig;
use crate::Ts;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SamplerStats {
    pub admitted: u64,
    /// Packets counted but not stored individually.
    pub sampled_out: u64,
}

pub struct PacketSampler {
    max: u64,
    second: i64,
    seen: u64,
    admitted_now: u64,
    /// Keep one packet in `step`, from last second's rate.
    step: u64,
    stats: SamplerStats,
}

impl PacketSampler {
    pub fn new(cfg: SamplerConfig) -> PacketSampler {
        PacketSampler {
            max: u64::from(cfg.max_per_second),
            second: i64::MIN,
            seen: 0,
            admitted_now: 0,
            step: 1,
            stats: SamplerStats::default(),
        }
    }

    /// Whether the packet stamped `time` should be stored.
    pub fn admit(&mut self, time: Ts) -> bool {
        let sec = time.secs();
        if sec != self.second {
            let last_rate = if sec == self.second + 1 { self.seen } else { 0 };
            self.step = if self.max == 0 {
                1
            } else {
                last_rate.div_ceil(self.max).max(1)
            };
            self.second = sec;
            self.seen = 0;
            self.admitted_now = 0;
        }
        self.seen += 1;
        let keep = self.admitted_now < self.max && (self.seen - 1).is_multiple_of(self.step);
        if keep {
            self.admitted_now += 1;
            self.stats.admitted += 1;
        } else {
            self.stats.sampled_out += 1;
        }
        keep
    }

    pub fn stats(&self) -> SamplerStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_limit_every_packet_is_kept() {
        let mut s = PacketSampler::new(SamplerConfig { max_per_second: 10 });
        assert!((0..10).all(|i| s.admit(Ts::from_millis(1000 + i * 50))));
        assert_eq!(s.stats().sampled_out, 0);
    }

    #[test]
    fn above_the_limit_the_cap_holds_and_the_sample_spreads_over_the_second() {
        let mut s = PacketSampler::new(SamplerConfig {
            max_per_second: 100,
        });
        let mut kept_at = Vec::new();
        for sec in 0..3i64 {
            for i in 0..1000i64 {
                let t = Ts::from_secs(sec) + crate::time::Span::millis(i);
                if s.admit(t) && sec == 2 {
                    kept_at.push(i);
                }
            }
        }
        assert_eq!(kept_at.len(), 100);
        assert!(*kept_at.last().unwrap() >= 900, "spread: {kept_at:?}");
        let st = s.stats();
        assert_eq!(st.admitted + st.sampled_out, 3000);
        assert_eq!(st.admitted, 300);
    }
}
