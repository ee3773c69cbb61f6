//! The traffic rollup tiers in PostgreSQL: their tables (as version 1 made them; version
//! 5 adds `host` to each key), the `UNION ALL` a ranged query reads (spans from the
//! shared `sqlite::tiers` split, hosts as `$21`), and the additive upserts a batch's
//! in-memory sums become: one `INSERT … SELECT FROM unnest(…) ON CONFLICT` statement
//! per tier and table, whatever the number of hosts and buckets.

use crate::sqlite::tiers::{HOSTS_PARAM, TIERS};
use crate::sqlite::traffic::{TrafficSums, ip_into};
use netsnoop_core::net::traffic::Counts;
use postgres::Transaction;
use rustc_hash::FxHashMap;

/// The four tables of one tier (suffix `""`, `_10s`, `_1m`, `_10m`, `_1h`).
pub(crate) fn tier_tables(suffix: &str) -> String {
    format!(
        r#"
CREATE TABLE traffic_seconds{suffix} (
    second            bigint PRIMARY KEY,
    packets           bigint NOT NULL,
    bytes             bigint NOT NULL,
    unique_src        bigint NOT NULL DEFAULT 0,
    unique_dst        bigint NOT NULL DEFAULT 0,
    src_other_packets bigint NOT NULL DEFAULT 0,
    src_other_bytes   bigint NOT NULL DEFAULT 0,
    dst_other_packets bigint NOT NULL DEFAULT 0,
    dst_other_bytes   bigint NOT NULL DEFAULT 0
);
CREATE TABLE traffic_protocol{suffix} (
    second   bigint NOT NULL,
    protocol text COLLATE "C" NOT NULL,
    packets  bigint NOT NULL,
    bytes    bigint NOT NULL,
    PRIMARY KEY (second, protocol)
);
CREATE TABLE traffic_src{suffix} (
    second  bigint NOT NULL,
    ip      text COLLATE "C" NOT NULL,
    packets bigint NOT NULL,
    bytes   bigint NOT NULL,
    PRIMARY KEY (second, ip)
);
CREATE TABLE traffic_dst{suffix} (
    second  bigint NOT NULL,
    ip      text COLLATE "C" NOT NULL,
    packets bigint NOT NULL,
    bytes   bigint NOT NULL,
    PRIMARY KEY (second, ip)
);
"#
    )
}

/// `SELECT {columns} FROM` each tier's table of `family` within its spans and hosts, as
/// one `UNION ALL`, binding `$1…$20` like `sqlite::tiers::union_all` binds `?1…?20`, and
/// the host keys as `$21` (`bigint[]`): one primary-key range per host and span.
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
                "SELECT {columns} FROM {family}{} WHERE host = ANY(${HOSTS_PARAM}::bigint[]) \
                 AND second >= ${} AND second < ${}",
                tier.suffix,
                n * 2 + 1,
                n * 2 + 2
            ));
            n += 1;
        }
    }
    sql
}

fn i64s(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Column arrays for one upsert of rows keyed by (host, second, text).
#[derive(Default)]
struct Keyed {
    host: Vec<i64>,
    second: Vec<i64>,
    key: Vec<String>,
    packets: Vec<i64>,
    bytes: Vec<i64>,
}

impl Keyed {
    fn push(&mut self, host: i64, second: i64, key: String, c: Counts) {
        self.host.push(host);
        self.second.push(second);
        self.key.push(key);
        self.packets.push(i64s(c.packets));
        self.bytes.push(i64s(c.bytes));
    }

    fn upsert(
        &self,
        tx: &mut Transaction<'_>,
        table: &str,
        key: &str,
    ) -> Result<(), postgres::Error> {
        if self.second.is_empty() {
            return Ok(());
        }
        // Table and key names are constants of this crate, never input.
        let sql = format!(
            "INSERT INTO {table} (host, second, {key}, packets, bytes)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[],
                 $5::bigint[])
             ON CONFLICT (host, second, {key}) DO UPDATE SET
                 packets = {table}.packets + excluded.packets,
                 bytes = {table}.bytes + excluded.bytes"
        );
        tx.execute(
            &sql,
            &[
                &self.host,
                &self.second,
                &self.key,
                &self.packets,
                &self.bytes,
            ],
        )?;
        Ok(())
    }
}

/// Adds the batch's sums to every tier, and the hour tier's address rows to the
/// all-time totals (per host and address), in the caller's transaction.
pub(crate) fn write(tx: &mut Transaction<'_>, sums: &TrafficSums) -> Result<(), postgres::Error> {
    let mut ip = String::new();
    let mut text = |addr| {
        ip_into(&mut ip, addr);
        ip.clone()
    };
    let mut totals: FxHashMap<&'static str, FxHashMap<(i64, String), Counts>> =
        FxHashMap::default();
    for (t, tier) in TIERS.iter().enumerate() {
        let mut seconds: [Vec<i64>; 10] = Default::default();
        let (mut proto, mut src, mut dst) = (Keyed::default(), Keyed::default(), Keyed::default());
        for (_, host, second, s) in sums
            .buckets()
            .filter(|(x, _, _, _)| x.width == TIERS[t].width)
        {
            let row = [
                host,
                second,
                i64s(s.total.packets),
                i64s(s.total.bytes),
                i64s(s.unique_src),
                i64s(s.unique_dst),
                i64s(s.src_other.packets),
                i64s(s.src_other.bytes),
                i64s(s.dst_other.packets),
                i64s(s.dst_other.bytes),
            ];
            for (col, v) in seconds.iter_mut().zip(row) {
                col.push(v);
            }
            for (p, c) in &s.by_protocol {
                proto.push(host, second, p.as_str().to_string(), *c);
            }
            for (a, c) in &s.by_src {
                src.push(host, second, text(*a), *c);
            }
            for (a, c) in &s.by_dst {
                dst.push(host, second, text(*a), *c);
            }
        }
        if seconds[0].is_empty() {
            continue;
        }
        let suffix = tier.suffix;
        let sql = format!(
            "INSERT INTO traffic_seconds{suffix} AS t (host, second, packets, bytes,
                 unique_src, unique_dst, src_other_packets, src_other_bytes,
                 dst_other_packets, dst_other_bytes)
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                 $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[],
                 $10::bigint[])
             ON CONFLICT (host, second) DO UPDATE SET
                 packets = t.packets + excluded.packets, bytes = t.bytes + excluded.bytes,
                 unique_src = greatest(t.unique_src, excluded.unique_src),
                 unique_dst = greatest(t.unique_dst, excluded.unique_dst),
                 src_other_packets = t.src_other_packets + excluded.src_other_packets,
                 src_other_bytes = t.src_other_bytes + excluded.src_other_bytes,
                 dst_other_packets = t.dst_other_packets + excluded.dst_other_packets,
                 dst_other_bytes = t.dst_other_bytes + excluded.dst_other_bytes"
        );
        let [a, b, c, d, e, f, g, h, i, j] = &seconds;
        tx.execute(&sql, &[a, b, c, d, e, f, g, h, i, j])?;
        proto.upsert(tx, &format!("traffic_protocol{suffix}"), "protocol")?;
        src.upsert(tx, &format!("traffic_src{suffix}"), "ip")?;
        dst.upsert(tx, &format!("traffic_dst{suffix}"), "ip")?;
        if t == TIERS.len() - 1 {
            for (family, rows) in [("src", &src), ("dst", &dst)] {
                let per_ip = totals.entry(family).or_default();
                for (i, ip) in rows.key.iter().enumerate() {
                    let at = (rows.host[i], ip.clone());
                    per_ip.entry(at).or_default().merge(Counts {
                        packets: rows.packets[i].max(0) as u64,
                        bytes: rows.bytes[i].max(0) as u64,
                    });
                }
            }
        }
    }
    for (family, per_ip) in totals {
        let (mut hosts, mut ips) = (Vec::new(), Vec::new());
        let (mut packets, mut bytes) = (Vec::new(), Vec::new());
        for ((host, ip), c) in per_ip {
            hosts.push(host);
            ips.push(ip);
            packets.push(i64s(c.packets));
            bytes.push(i64s(c.bytes));
        }
        let sql = format!(
            "INSERT INTO traffic_{family}_total AS t (host, ip, packets, bytes)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
             ON CONFLICT (host, ip) DO UPDATE SET
                 packets = t.packets + excluded.packets, bytes = t.bytes + excluded.bytes"
        );
        tx.execute(&sql, &[&hosts, &ips, &packets, &bytes])?;
    }
    Ok(())
}
