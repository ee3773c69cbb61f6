//! Records encoded into the binary COPY payloads of the PostgreSQL write path, one per
//! table, each row ending with its host's key; a record PostgreSQL cannot hold (NUL in
//! text, an integer past bigint) is refused here, before any COPY starts.

use super::copy::CopyBuf;
use super::partitions;
use crate::OpenOptions;
use crate::sqlite::traffic::ip_into;
use crate::{Result, StoreError};
use netsnoop_core::event::ProcSample;
use netsnoop_core::{FlowRecord, Loss, PacketMeta, ProcessEvent};
use postgres::Transaction;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// Rows headed for each COPY, encoded as the batch is walked.
pub(crate) struct Copies {
    packets: CopyBuf,
    process_events: CopyBuf,
    system_samples: CopyBuf,
    process_samples: CopyBuf,
    flows: CopyBuf,
    losses: CopyBuf,
    /// Days each partitioned table receives rows for.
    pub(crate) days: [BTreeSet<i64>; 4],
}

const PACKETS: &str = "packets (time, iface, src_ip, dst_ip, src_port, dst_port, protocol, \
     tcp_flags, icmp_type, icmp_code, icmp_quoted, wire_len, ip_len, no_ports, host)";
const PROCESS_EVENTS: &str = "process_events (time, kind, pid, ppid, start_ticks, uid, \"user\", \
     comm, exe, argv, argv_complete, cwd, cgroup, exit_code, ancestry, host)";
const SYSTEM_SAMPLES: &str = "system_samples (time, cpu_pct, per_core_pct, mem_total, mem_used, \
     mem_available, swap_total, swap_used, load1, load5, load15, psi_cpu, psi_memory, psi_io, \
     forks_total, procs_running, host)";
const PROCESS_SAMPLES: &str = "process_samples (time, pid, start_ticks, ppid, comm, \"user\", \
     cmdline, cpu_pct, rss_bytes, host)";
const FLOWS: &str = "flows (first_seen, last_seen, protocol, orig_ip, orig_port, resp_ip, \
     resp_port, orig_packets, orig_bytes, resp_packets, resp_bytes, state, end_reason, \
     orig_pid, orig_comm, orig_unknown, orig_owner, resp_pid, resp_comm, resp_unknown, resp_owner, host)";
const LOSSES: &str = "losses (time, source, count, reason, host)";

impl Copies {
    pub(crate) fn new() -> Copies {
        Copies {
            packets: CopyBuf::new(15),
            process_events: CopyBuf::new(16),
            system_samples: CopyBuf::new(17),
            process_samples: CopyBuf::new(10),
            flows: CopyBuf::new(22),
            losses: CopyBuf::new(5),
            days: Default::default(),
        }
    }

    /// Sends every table's rows; returns the packet rows and all rows sent.
    pub(crate) fn send(self, tx: &mut Transaction<'_>) -> Result<(u64, u64), postgres::Error> {
        let packets = self.packets.send(tx, PACKETS)?;
        let mut rows = packets;
        rows += self.process_events.send(tx, PROCESS_EVENTS)?;
        rows += self.system_samples.send(tx, SYSTEM_SAMPLES)?;
        rows += self.process_samples.send(tx, PROCESS_SAMPLES)?;
        rows += self.flows.send(tx, FLOWS)?;
        rows += self.losses.send(tx, LOSSES)?;
        Ok((packets, rows))
    }
}

fn json<T: serde::Serialize>(column: &'static str, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|source| StoreError::BadJson { column, source })
}

/// Text may not hold NUL in PostgreSQL: such a record is refused on its own.
fn checked<'a>(column: &'static str, s: &'a str) -> Result<&'a str> {
    if s.contains('\0') {
        return Err(StoreError::Unstorable {
            reason: format!("{column} holds a NUL character, which PostgreSQL text cannot"),
        });
    }
    Ok(s)
}

fn opt_checked<'a>(column: &'static str, s: Option<&'a str>) -> Result<Option<&'a str>> {
    s.map(|s| checked(column, s)).transpose()
}

fn ip(c: &mut CopyBuf, addr: Option<IpAddr>) {
    match addr {
        Some(a) => {
            c.text_with(|buf| {
                let mut s = String::new();
                ip_into(&mut s, a);
                buf.extend_from_slice(s.as_bytes());
            });
        }
        None => {
            c.null();
        }
    }
}

pub(crate) fn packet(c: &mut Copies, p: &PacketMeta, host: i64) -> Result<()> {
    let quoted = match p.icmp.as_ref().and_then(|i| i.quoted.as_ref()) {
        Some(q) => Some(json("packets.icmp_quoted", q)?),
        None => None,
    };
    c.days[0].insert(partitions::day_of(p.time.micros()));
    let b = &mut c.packets;
    b.row().int(p.time.micros()).int(i64::from(p.iface));
    ip(b, p.src_ip);
    ip(b, p.dst_ip);
    b.int(i64::from(p.src_port))
        .int(i64::from(p.dst_port))
        .text(p.protocol.as_str())
        .int(i64::from(p.tcp_flags))
        .opt_int(p.icmp.as_ref().map(|i| i64::from(i.icmp_type)))
        .opt_int(p.icmp.as_ref().map(|i| i64::from(i.code)))
        .opt_text(quoted.as_deref())
        .int(i64::from(p.wire_len))
        .int(i64::from(p.ip_len))
        .boolean(p.no_ports)
        .int(host);
    Ok(())
}

pub(crate) fn process_event(c: &mut Copies, e: &ProcessEvent, host: i64) -> Result<()> {
    let argv = json("process_events.argv", &e.argv)?;
    let ancestry = json("process_events.ancestry", &e.ancestry)?;
    let comm = checked("process_events.comm", &e.comm)?;
    let user = opt_checked("process_events.user", e.user.as_deref())?;
    let exe = opt_checked("process_events.exe", e.exe.as_deref())?;
    let cwd = opt_checked("process_events.cwd", e.cwd.as_deref())?;
    let cgroup = opt_checked("process_events.cgroup", e.cgroup.as_deref())?;
    c.days[1].insert(partitions::day_of(e.time.micros()));
    c.process_events
        .row()
        .int(e.time.micros())
        .text(e.kind.as_str())
        .int(i64::from(e.pid))
        .int(i64::from(e.ppid))
        .uint(e.start_ticks)?
        .opt_int(e.uid.map(i64::from))
        .opt_text(user)
        .text(comm)
        .opt_text(exe)
        .text(&argv)
        .boolean(e.argv_complete)
        .opt_text(cwd)
        .opt_text(cgroup)
        .opt_int(e.exit_code.map(i64::from))
        .text(&ancestry)
        .int(host);
    Ok(())
}

/// NaN as NULL, as SQLite stores it, so both read back the same.
fn real(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

pub(crate) fn resources(
    c: &mut Copies,
    s: &netsnoop_core::ResourceSample,
    opts: &OpenOptions,
    host: i64,
) -> Result<()> {
    let sys = &s.system;
    let per_core: Vec<Option<f64>> = sys.per_core_pct.iter().map(|&v| real(v)).collect();
    let per_core = json("system_samples.per_core_pct", &per_core)?;
    let mut top: Vec<&ProcSample> = s.processes.iter().collect();
    top.sort_by(|a, b| {
        b.cpu_pct
            .total_cmp(&a.cpu_pct)
            .then(b.rss_bytes.cmp(&a.rss_bytes))
    });
    top.truncate(opts.process_samples_top_n);
    for p in &top {
        checked("process_samples.comm", &p.comm)?;
        checked("process_samples.cmdline", &p.cmdline)?;
        opt_checked("process_samples.user", p.user.as_deref())?;
    }
    let time = sys.time.micros();
    c.days[2].insert(partitions::day_of(time));
    c.system_samples
        .row()
        .int(time)
        .opt_float(real(sys.cpu_pct))
        .text(&per_core)
        .uint(sys.mem_total)?
        .uint(sys.mem_used)?
        .uint(sys.mem_available)?
        .uint(sys.swap_total)?
        .uint(sys.swap_used)?
        .opt_float(real(sys.load1))
        .opt_float(real(sys.load5))
        .opt_float(real(sys.load15))
        .opt_float(sys.psi_cpu)
        .opt_float(sys.psi_memory)
        .opt_float(sys.psi_io)
        .uint(sys.forks_total)?
        .int(i64::from(sys.procs_running))
        .int(host);
    if !top.is_empty() {
        c.days[3].insert(partitions::day_of(time));
    }
    for p in top {
        c.process_samples
            .row()
            .int(time)
            .int(i64::from(p.pid))
            .uint(p.start_ticks)?
            .int(i64::from(p.ppid))
            .text(&p.comm)
            .opt_text(p.user.as_deref())
            .text(&p.cmdline)
            .opt_float(real(p.cpu_pct))
            .uint(p.rss_bytes)?
            .int(host);
    }
    Ok(())
}

pub(crate) fn flow(c: &mut Copies, f: &FlowRecord, host: i64) -> Result<()> {
    let b = &mut c.flows;
    b.row()
        .int(f.first_seen.micros())
        .int(f.last_seen.micros())
        .text(f.protocol.as_str());
    ip(b, f.orig_ip);
    b.int(i64::from(f.orig_port));
    ip(b, f.resp_ip);
    b.int(i64::from(f.resp_port))
        .uint(f.orig_packets)?
        .uint(f.orig_bytes)?
        .uint(f.resp_packets)?
        .uint(f.resp_bytes)?
        .text(checked("flows.state", &f.state)?)
        .text(checked("flows.end_reason", &f.end_reason)?);
    for owner in [f.orig_owner.as_ref(), f.resp_owner.as_ref()] {
        let o = crate::sqlite::owners::columns(owner)?;
        b.opt_int(o.pid.map(i64::from))
            .opt_text(o.comm.as_deref())
            .opt_text(o.unknown)
            .opt_text(o.json.as_deref());
    }
    b.int(host);
    Ok(())
}

pub(crate) fn loss(c: &mut Copies, l: &Loss, host: i64) -> Result<()> {
    let source = checked("losses.source", &l.source)?;
    let reason = checked("losses.reason", &l.reason)?;
    c.losses
        .row()
        .int(l.time.micros())
        .text(source)
        .uint(l.count)?
        .text(reason)
        .int(host);
    Ok(())
}
