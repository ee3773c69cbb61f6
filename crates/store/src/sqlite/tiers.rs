//! The traffic rollup tiers (per second, 10 s, minute, 10 min, hour) and how a time
//! range is split across them, so a query reads whole hours from the hour tier, the
//! remaining whole 10-minute, minute and 10-second buckets from theirs, and only the
//! ragged seconds at its edges per second: at most 9 + 5 + 9 + 5 buckets at each edge.
//!
//! Every tier holds the same four tables (`traffic_seconds`, `traffic_protocol`,
//! `traffic_src`, `traffic_dst`), named with the tier's suffix and keyed by `host` (a
//! `hosts.key`, migration 10), then `second`, the first Unix second of the bucket. A bucket's row is the sum of its seconds (the
//! distinct counts the largest of its seconds'), so any exact cover of a range by
//! buckets gives the same sums, maxima and sets of hosts as the seconds themselves.

use crate::RetentionConfig;
use std::time::Duration;

/// One rollup tier.
pub(crate) struct Tier {
    /// Appended to each family's table name: `traffic_src_1m`.
    pub(crate) suffix: &'static str,
    /// Bucket width in seconds.
    pub(crate) width: i64,
    /// How long retention keeps it: finer tiers never outlive coarser ones, so every
    /// second still held is covered by its coarser buckets too.
    pub(crate) keep: fn(&RetentionConfig) -> Option<Duration>,
}

/// The four tables of every tier, by their per-second names.
pub(crate) const FAMILIES: [&str; 4] = [
    "traffic_seconds",
    "traffic_protocol",
    "traffic_src",
    "traffic_dst",
];

impl Tier {
    /// `traffic`, `traffic_10s`, …: how retention reports it.
    pub(crate) fn name(&self) -> String {
        format!("traffic{}", self.suffix)
    }

    /// Its four tables, in [`FAMILIES`] order.
    pub(crate) fn tables(&self) -> impl Iterator<Item = String> + '_ {
        FAMILIES.iter().map(|f| format!("{f}{}", self.suffix))
    }
}

/// Finest first. A coarser width must be a multiple of every finer one. Steps of 6–10
/// keep each edge of a range to a few buckets per tier: with a thousand hosts active,
/// every bucket holds about a thousand host rows, so buckets read are what costs.
pub(crate) const TIERS: [Tier; 5] = [
    Tier {
        suffix: "",
        width: 1,
        keep: |c| c.traffic,
    },
    Tier {
        suffix: "_10s",
        width: 10,
        keep: |c| c.traffic,
    },
    Tier {
        suffix: "_1m",
        width: 60,
        keep: RetentionConfig::traffic_minutes_kept,
    },
    Tier {
        suffix: "_10m",
        width: 600,
        keep: RetentionConfig::traffic_minutes_kept,
    },
    Tier {
        suffix: "_1h",
        width: 3600,
        keep: RetentionConfig::traffic_hours_kept,
    },
];

/// The parameter [`union_all`] reads the host keys from: a JSON array of integers.
pub(crate) const HOSTS_PARAM: usize = TIERS.len() * 4 + 1;

/// Parameters [`union_all`] binds; the next free one is `PARAMS + 1`.
pub(crate) const PARAMS: usize = HOSTS_PARAM;

/// Start of the bucket of `width` seconds holding `second` (floor, also before 1970).
pub(crate) fn bucket(second: i64, width: i64) -> i64 {
    second - second.rem_euclid(width)
}

/// Ranges are clamped to this many seconds either side of the epoch (far beyond any
/// `Ts`), a multiple of every width, so an unbounded side falls on a bucket edge and
/// the arithmetic below cannot overflow.
const BOUND: i64 = (1 << 62) / 3600 * 3600;

/// Each tier's share of a range: up to two half-open `[lo, hi)` intervals per tier
/// (one on each side of the coarser part); an empty interval is `(0, 0)`.
pub(crate) type Spans = [[(i64, i64); 2]; TIERS.len()];

/// Splits the seconds `[since, until)` into the coarsest buckets that fit, using tiers
/// up to `TIERS[coarsest]`.
pub(crate) fn split(since: i64, until: i64, coarsest: usize) -> Spans {
    let mut spans: Spans = [[(0, 0); 2]; TIERS.len()];
    let mut used = [0usize; TIERS.len()];
    let (since, until) = (since.clamp(-BOUND, BOUND), until.clamp(-BOUND, BOUND));
    cover(since, until, coarsest, &mut spans, &mut used);
    spans
}

fn cover(lo: i64, hi: i64, tier: usize, spans: &mut Spans, used: &mut [usize]) {
    if lo >= hi {
        return;
    }
    let w = TIERS[tier].width;
    let (a, b) = (bucket(lo + w - 1, w), bucket(hi, w));
    if tier == 0 || a < b {
        // At most two per tier: the parts beside a coarser interval lie on its two
        // sides, and the part touching a coarser edge is aligned on that side.
        spans[tier][used[tier]] = if tier == 0 { (lo, hi) } else { (a, b) };
        used[tier] += 1;
    }
    if tier > 0 {
        let (a, b) = if a < b { (a, b) } else { (hi, hi) };
        cover(lo, a, tier - 1, spans, used);
        cover(b, hi, tier - 1, spans, used);
    }
}

/// The index of the coarsest tier whose buckets fit whole into buckets of `width`
/// seconds (aligned to the epoch like the tiers).
pub(crate) fn coarsest_dividing(width: i64) -> usize {
    TIERS
        .iter()
        .rposition(|t| width % t.width == 0)
        .unwrap_or(0)
}

/// `SELECT {columns} FROM` each tier's table of `family`, restricted to its spans and
/// the hosts, as one `UNION ALL`. Binds `?1`…`?20`, the spans in [`params`] order, and
/// `?HOSTS_PARAM`, the host keys as a JSON array ([`host_keys_json`]): each span is then
/// one primary-key range per host.
pub(crate) fn union_all(family: &str, columns: &str) -> String {
    let mut sql = String::new();
    let mut n = 0;
    for tier in &TIERS {
        for _ in 0..2 {
            if n > 0 {
                sql.push_str(" UNION ALL ");
            }
            // Family, columns and suffixes are constants of this crate, never input.
            sql.push_str(&format!(
                "SELECT {columns} FROM {family}{} WHERE host IN (SELECT value FROM \
                 json_each(?{HOSTS_PARAM})) AND second >= ?{} AND second < ?{}",
                tier.suffix,
                n * 2 + 1,
                n * 2 + 2
            ));
            n += 1;
        }
    }
    sql
}

/// Host keys as the JSON array `?HOSTS_PARAM` takes.
pub(crate) fn host_keys_json(keys: &[i64]) -> String {
    let list: Vec<String> = keys.iter().map(i64::to_string).collect();
    format!("[{}]", list.join(","))
}

/// The spans as the parameters [`union_all`] expects before the host keys.
pub(crate) fn params(spans: &Spans) -> [i64; HOSTS_PARAM - 1] {
    let mut out = [0; HOSTS_PARAM - 1];
    for (i, (lo, hi)) in spans.iter().flatten().enumerate() {
        out[i * 2] = *lo;
        out[i * 2 + 1] = *hi;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which tier covers each second of `[since, until)`, by expanding the spans.
    fn owners(spans: &Spans, since: i64, until: i64) -> Vec<usize> {
        (since..until)
            .map(|s| {
                let hits: Vec<usize> = spans
                    .iter()
                    .enumerate()
                    .flat_map(|(t, iv)| iv.iter().map(move |iv| (t, *iv)))
                    .filter(|(_, (lo, hi))| s >= *lo && s < *hi)
                    .map(|(t, _)| t)
                    .collect();
                assert_eq!(hits.len(), 1, "second {s} covered {} times", hits.len());
                hits[0]
            })
            .collect()
    }

    #[test]
    fn every_second_of_a_range_is_covered_exactly_once_by_the_coarsest_fitting_bucket() {
        let t0 = 1_700_000_000 - 1_700_000_000 % 3600;
        for (since, until) in [
            (t0, t0 + 7200),
            (t0 + 17, t0 + 7200 + 61),
            (t0 + 3599, t0 + 3601),
            (t0 + 61, t0 + 3599),
            (t0 + 5, t0 + 50),
            (t0 - 3661, t0 + 3661),
            (-7300, 7300),
            (t0 + 10, t0 + 10),
        ] {
            let spans = split(since, until, TIERS.len() - 1);
            for (i, tier) in owners(&spans, since, until).into_iter().enumerate() {
                let s = since + i as i64;
                let b = bucket(s, TIERS[tier].width);
                assert!(b >= since && b + TIERS[tier].width <= until, "{s}");
                if tier < TIERS.len() - 1 {
                    let w = TIERS[tier + 1].width;
                    let c = bucket(s, w);
                    assert!(c < since || c + w > until, "{s} fits a coarser bucket");
                }
            }
        }
    }

    #[test]
    fn an_unbounded_range_is_all_hours_and_a_capped_tier_is_never_exceeded() {
        let spans = split(i64::MIN, i64::MAX, 4);
        assert!(spans[..4].iter().all(|s| *s == [(0, 0); 2]));
        assert_eq!(spans[4][0], (-BOUND, BOUND));
        let spans = split(95, 100_005, 2);
        assert_eq!(spans[4], [(0, 0); 2]);
        assert_eq!(spans[3], [(0, 0); 2]);
        assert_eq!(spans[2][0], (120, 99_960));
        assert_eq!(spans[1], [(100, 120), (99_960, 100_000)]);
        assert_eq!(spans[0], [(95, 100), (100_000, 100_005)]);
    }

    #[test]
    fn a_bucket_width_uses_only_tiers_that_divide_it() {
        assert_eq!(coarsest_dividing(1), 0);
        assert_eq!(coarsest_dividing(15), 0);
        assert_eq!(coarsest_dividing(30), 1);
        assert_eq!(coarsest_dividing(90), 1);
        assert_eq!(coarsest_dividing(120), 2);
        assert_eq!(coarsest_dividing(1800), 3);
        assert_eq!(coarsest_dividing(7200), 4);
    }
}
