//! `netsnoop hosts`: the hosts a server's store knows (its own and its agents'), with their
//! state, lag and spool; `netsnoop hosts revoke HOST` revokes an agent's key.

use crate::cli::{Common, HostsAction, HostsArgs};
use crate::config::Overrides;
use crate::setup::setup;
use crate::sinks::terminal::Format;
use anyhow::bail;
use netsnoop_core::Ts;
use netsnoop_server::fleet::{FleetConfig, HostState};
use std::io::Write;

pub fn run(args: &HostsArgs) -> anyhow::Result<()> {
    let sub = args.action.as_ref().map(|HostsAction::Revoke(r)| &r.common);
    let common = Common {
        config: sub
            .and_then(|c| c.config.clone())
            .or(args.common.config.clone()),
        data_dir: sub
            .and_then(|c| c.data_dir.clone())
            .or(args.common.data_dir.clone()),
    };
    let s = setup(&common, Overrides::default())?;
    let store = super::alerts::existing_store(&s)?;
    if let Some(HostsAction::Revoke(r)) = &args.action {
        if !store.revoke_host(&r.host)? {
            bail!(
                "no enrolled host has the id or name {:?}: `netsnoop hosts` lists them",
                r.host
            );
        }
        println!(
            "netsnoop: revoked the agent key of {}; its batches now get 401 until it enrols again",
            r.host
        );
        return Ok(());
    }
    let cfg = FleetConfig {
        stale_after: s.config.fleet.stale_after.get(),
        down_after: s.config.fleet.down_after.get(),
        ..FleetConfig::default()
    };
    let now = Ts::now();
    let mut out = anstream::stdout().lock();
    for h in store.hosts()? {
        let state = if h.local {
            HostState::Up
        } else {
            HostState::of(h.last_seen, now, &cfg)
        };
        let lag = h.newest_record.map(|t| now.since(t).max(0.0));
        match args.format {
            Format::Jsonl => {
                let line = serde_json::json!({
                    "id": h.host.id, "hostname": h.host.name, "local": h.local,
                    "status": state, "agent_version": h.agent_version,
                    "last_seen": s.tf.rfc3339(h.last_seen), "lag_secs": lag,
                    "committed_seq": h.committed_seq, "revoked": h.revoked, "agent": h.status,
                });
                writeln!(out, "{line}")?;
            }
            Format::Text => {
                let state = if h.revoked {
                    "revoked".to_string()
                } else {
                    serde_json::to_value(state)?
                        .as_str()
                        .unwrap_or("?")
                        .to_string()
                };
                let spool = h.status.as_ref().map_or(String::new(), |st| {
                    format!(
                        ", spool {} batches ({} dropped)",
                        st.spool_batches, st.spool_dropped_batches
                    )
                });
                let lag = lag.map_or(String::new(), |l| format!(", lag {l:.1}s"));
                let role = if h.local { " (this server)" } else { "" };
                writeln!(
                    out,
                    "{:<8} {} {}{role}: last seen {}{lag}{spool}",
                    state,
                    h.host.name,
                    h.host.id,
                    s.tf.rfc3339(h.last_seen)
                )?;
            }
        }
    }
    Ok(())
}
