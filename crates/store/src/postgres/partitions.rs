//! Day partitions of the raw time series (`packets_20261203`, …): created ahead by the
//! store (today and the next two days at start and at every retention pass) and on
//! demand for any day a batch holds (a replayed capture from years ago), and listed
//! so retention can drop whole days.

use super::schema::PARTITIONED;
use postgres::GenericClient;
use std::collections::HashSet;

/// Microseconds in a day: partitions are `[day * DAY_US, (day + 1) * DAY_US)`.
pub(crate) const DAY_US: i64 = 86_400_000_000;

/// The day (since the epoch) holding `micros`.
pub(crate) fn day_of(micros: i64) -> i64 {
    micros.div_euclid(DAY_US)
}

/// `(year, month, day)` of a day number since 1970-01-01 (proleptic Gregorian).
fn civil(day: i64) -> (i64, i64, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `packets_20261203`; days outside years 1000–9999 (never real traffic, but a record
/// may carry any time) by their number: `packets_dm3` is day -3.
pub(crate) fn name(table: &str, day: i64) -> String {
    let (y, m, d) = civil(day);
    if (1000..=9999).contains(&y) {
        format!("{table}_{y:04}{m:02}{d:02}")
    } else if day < 0 {
        format!("{table}_dm{}", day.unsigned_abs())
    } else {
        format!("{table}_d{day}")
    }
}

/// The day a partition name stands for, if it is one of ours.
pub(crate) fn day_of_name(table: &str, name: &str) -> Option<i64> {
    let rest = name.strip_prefix(table)?.strip_prefix('_')?;
    if let Some(n) = rest.strip_prefix("dm") {
        return n.parse::<i64>().ok().map(|n| -n);
    }
    if let Some(n) = rest.strip_prefix('d') {
        return n.parse().ok();
    }
    if rest.len() != 8 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (y, m, d) = (
        rest[..4].parse::<i64>().ok()?,
        rest[4..6].parse::<i64>().ok()?,
        rest[6..].parse::<i64>().ok()?,
    );
    // Days from civil: the inverse of `civil`.
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// Which day partitions exist, so a batch pays for the catalogue only on a new day.
#[derive(Default)]
pub(crate) struct Known {
    days: HashSet<(&'static str, i64)>,
}

impl Known {
    /// Forgets everything (after retention dropped some, or a failed transaction that
    /// may have rolled back a creation).
    pub(crate) fn clear(&mut self) {
        self.days.clear();
    }

    /// Creates the partitions of `table` for `days` that are not known to exist.
    /// Creation takes a transaction-level advisory lock, so two processes creating the
    /// same day wait for each other instead of failing: call it inside a transaction.
    pub(crate) fn ensure(
        &mut self,
        client: &mut impl GenericClient,
        table: &'static str,
        days: impl IntoIterator<Item = i64>,
    ) -> Result<(), postgres::Error> {
        for day in days {
            if self.days.contains(&(table, day)) {
                continue;
            }
            let part = name(table, day);
            client.execute("SELECT pg_advisory_xact_lock(hashtext($1))", &[&part])?;
            // Names and bounds are built from constants and integers, never input text.
            client.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {part} PARTITION OF {table}
                 FOR VALUES FROM ({}) TO ({})",
                day * DAY_US,
                (day + 1) * DAY_US
            ))?;
            self.days.insert((table, day));
        }
        Ok(())
    }

    /// Today's and the next two days' partitions of every partitioned table.
    pub(crate) fn ahead(
        &mut self,
        client: &mut impl GenericClient,
        now_micros: i64,
    ) -> Result<(), postgres::Error> {
        let today = day_of(now_micros);
        for table in PARTITIONED {
            self.ensure(client, table, today..today + 3)?;
        }
        Ok(())
    }
}

/// The partitions of `table` with the day each holds, oldest first.
pub(crate) fn list(
    client: &mut impl GenericClient,
    table: &str,
) -> Result<Vec<(String, i64)>, postgres::Error> {
    let rows = client.query(
        "SELECT c.relname::text FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         WHERE p.relname = $1 AND p.relnamespace = current_schema()::regnamespace",
        &[&table],
    )?;
    let mut out: Vec<(String, i64)> = rows
        .iter()
        .filter_map(|r| {
            let n: String = r.get(0);
            day_of_name(table, &n).map(|d| (n, d))
        })
        .collect();
    out.sort_by_key(|(_, d)| *d);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_are_dates_and_read_back_as_their_day() {
        assert_eq!(name("packets", 0), "packets_19700101");
        // 2026-12-03 is day 20790.
        assert_eq!(name("packets", 20_790), "packets_20261203");
        assert_eq!(name("packets", -1), "packets_19691231");
        assert_eq!(name("packets", -800_000), "packets_dm800000");
        for day in [
            -800_000, -1, 0, 59, 60, 365, 11_016, 20_790, 2_932_896, 3_000_000,
        ] {
            assert_eq!(
                day_of_name("packets", &name("packets", day)),
                Some(day),
                "{day}"
            );
        }
        assert_eq!(day_of_name("packets", "packets_default"), None);
        assert_eq!(day_of_name("packets", "process_samples_20261203"), None);
    }

    #[test]
    fn a_day_starts_at_midnight_utc_also_before_the_epoch() {
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY_US - 1), 0);
        assert_eq!(day_of(-1), -1);
    }
}
