//! Retention on PostgreSQL: the raw series lose whole day partitions (a `DROP TABLE`
//! costs milliseconds however many rows it held), the rest rows by age as in SQLite;
//! over the size limit, the oldest partitions go first, oldest day first.

use super::partitions::{self, DAY_US};
use super::schema::PARTITIONED;
use crate::model::RetentionReport;
use crate::sqlite::tiers::TIERS;
use crate::{Result, RetentionConfig, StoreError};
use netsnoop_core::Ts;
use postgres::{Client, GenericClient, Transaction};
use std::time::Duration;

/// Tables that are not partitioned, deleted by rows as in SQLite.
struct Plain {
    name: String,
    tables: Vec<String>,
    column: &'static str,
    age: Option<Duration>,
    /// Bucket width of a rollup tier (cutoffs fall on bucket edges); 1 otherwise.
    width: i64,
}

impl Plain {
    fn one(table: &str, column: &'static str, age: Option<Duration>) -> Plain {
        Plain {
            name: table.into(),
            tables: vec![table.into()],
            column,
            age,
            width: 1,
        }
    }
}

fn age_of(table: &str, cfg: &RetentionConfig) -> Option<Duration> {
    match table {
        "packets" => cfg.packets,
        "process_events" => cfg.process_events,
        "system_samples" => cfg.system_samples,
        "process_samples" => cfg.process_samples,
        _ => None,
    }
}

fn cutoff_micros(now: Ts, age: Duration) -> i64 {
    let age_us = i64::try_from(age.as_micros()).unwrap_or(i64::MAX);
    now.micros().saturating_sub(age_us)
}

/// Rows in a partition about to be dropped, for the report: the planner's estimate once
/// the partition has been analyzed (within about 1% on a day of 5 M packets, and free),
/// else a count, so dropping a day of millions of rows costs no scan of them.
fn partition_rows(client: &mut impl GenericClient, part: &str) -> Result<u64, postgres::Error> {
    let est: f32 = client
        .query_one(
            "SELECT reltuples FROM pg_class WHERE oid = $1::text::regclass",
            &[&part],
        )?
        .get(0);
    if est >= 0.0 {
        return Ok(est as u64);
    }
    let rows: i64 = client
        .query_one(&format!("SELECT count(*) FROM {part}"), &[])?
        .get(0);
    Ok(rows.max(0) as u64)
}

/// Counts and drops partitions wholly older than `cutoff`, then deletes the rows
/// older than it from the partition that straddles it (one day at most).
fn trim_partitioned(
    tx: &mut Transaction<'_>,
    table: &str,
    cutoff: i64,
) -> Result<u64, postgres::Error> {
    let mut n = 0;
    for (part, day) in partitions::list(tx, table)? {
        if (day + 1) * DAY_US <= cutoff {
            n += partition_rows(tx, &part)?;
            // Names come from the catalogue and match our own pattern (checked by list).
            tx.batch_execute(&format!("DROP TABLE {part}"))?;
        }
    }
    // Table names are constants of this crate, never input.
    n += tx.execute(&format!("DELETE FROM {table} WHERE time < $1"), &[&cutoff])?;
    Ok(n)
}

/// Deletes the hour tier's address rows older than `cutoff` (of the hosts `hosts`) and
/// takes them off the all-time totals in the same statement.
fn trim_hour_hosts(
    tx: &mut Transaction<'_>,
    family: &str,
    hosts: &[i64],
    cutoff: i64,
) -> Result<u64, postgres::Error> {
    let n: i64 = tx
        .query_one(
            &format!(
                "WITH gone AS (DELETE FROM {family}_1h WHERE host = ANY($2) AND second < $1
                               RETURNING host, ip, packets, bytes),
                      per_ip AS (SELECT host, ip, sum(packets)::bigint p, sum(bytes)::bigint b
                                 FROM gone GROUP BY host, ip),
                      taken AS (UPDATE {family}_total t
                                SET packets = t.packets - per_ip.p, bytes = t.bytes - per_ip.b
                                FROM per_ip WHERE t.host = per_ip.host AND t.ip = per_ip.ip
                                RETURNING 1)
                 SELECT (SELECT count(*) FROM gone) + 0 * (SELECT count(*) FROM taken)"
            ),
            &[&cutoff, &hosts],
        )?
        .get(0);
    let n = n.max(0) as u64;
    tx.execute(
        &format!("DELETE FROM {family}_total WHERE packets <= 0"),
        &[],
    )?;
    Ok(n)
}

pub(crate) fn apply(
    client: &mut Client,
    now: Ts,
    cfg: &RetentionConfig,
) -> Result<RetentionReport> {
    let doing = "applying retention";
    let err = StoreError::pg;
    let mut report = RetentionReport {
        bytes_before: super::query::database_bytes(client)?,
        ..RetentionReport::default()
    };
    let mut tx = client.transaction().map_err(err(doing))?;
    for table in PARTITIONED {
        if let Some(age) = age_of(table, cfg) {
            let n =
                trim_partitioned(&mut tx, table, cutoff_micros(now, age)).map_err(err(doing))?;
            if n > 0 {
                report.by_age.insert(table.to_string(), n);
            }
        }
    }
    // Every host with rollup rows (and key 0, the local host).
    let hosts: Vec<i64> = tx
        .query("SELECT 0::bigint UNION SELECT key FROM hosts", &[])
        .map_err(err(doing))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut plain = vec![Plain::one("flows", "last_seen", cfg.flows)];
    for t in &TIERS {
        plain.push(Plain {
            name: t.name(),
            tables: t.tables().collect(),
            column: "second",
            age: (t.keep)(cfg),
            width: t.width,
        });
    }
    plain.push(Plain::one("losses", "time", cfg.losses));
    plain.push(Plain::one("alerts", "last_seen", cfg.alerts));
    for Plain {
        name,
        tables,
        column,
        age,
        width,
    } in plain
    {
        let Some(age) = age else { continue };
        let cut = cutoff_micros(now, age);
        let cut = if column == "second" {
            let second = cut.div_euclid(1_000_000);
            second - second.rem_euclid(width)
        } else {
            cut
        };
        let mut n = 0;
        for table in &tables {
            n += if table.ends_with("_1h")
                && (table.starts_with("traffic_src") || table.starts_with("traffic_dst"))
            {
                let family = table.trim_end_matches("_1h");
                trim_hour_hosts(&mut tx, family, &hosts, cut).map_err(err(doing))?
            } else if column == "second" {
                // Rollups are keyed by (host, second): one key range per host. Names are
                // constants of this crate, never input.
                tx.execute(
                    &format!("DELETE FROM {table} WHERE host = ANY($2) AND second < $1"),
                    &[&cut, &hosts],
                )
                .map_err(err(doing))?
            } else {
                // Names are constants of this crate, never input.
                tx.execute(&format!("DELETE FROM {table} WHERE {column} < $1"), &[&cut])
                    .map_err(err(doing))?
            };
        }
        if n > 0 {
            report.by_age.insert(name, n);
        }
    }
    let mut ahead = partitions::Known::default();
    ahead.ahead(&mut tx, now.micros()).map_err(err(doing))?;
    tx.commit().map_err(err(doing))?;
    if let Some(max) = cfg.max_db_bytes {
        report.size_limit_unreached = !shrink_to(client, max, &mut report)?;
    }
    report.bytes_after = super::query::database_bytes(client)?;
    Ok(report)
}

/// Over the size limit: drops the oldest day partitions, packets first, then samples
/// and process events, until the database fits. Deleted rows elsewhere would not give
/// space back without VACUUM FULL, so only whole partitions count here.
fn shrink_to(client: &mut Client, max: u64, report: &mut RetentionReport) -> Result<bool> {
    let doing = "shrinking the database to its size limit";
    for table in [
        "packets",
        "process_samples",
        "system_samples",
        "process_events",
    ] {
        loop {
            if super::query::database_bytes(client)? <= max {
                return Ok(true);
            }
            let parts = partitions::list(client, table).map_err(StoreError::pg(doing))?;
            // Keep the newest partition: it is where writes go.
            let Some((part, _)) = parts.first().filter(|_| parts.len() > 1) else {
                break;
            };
            let rows = partition_rows(client, part).map_err(StoreError::pg(doing))?;
            client
                .batch_execute(&format!("DROP TABLE {part}"))
                .map_err(StoreError::pg(doing))?;
            *report.by_size.entry(table.to_string()).or_default() += rows;
        }
    }
    Ok(super::query::database_bytes(client)? <= max)
}
