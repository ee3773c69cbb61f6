//! `netsnoop alerts ack|silence|silences`: acknowledgements and silences, written to the
//! store that `run` reads them from (within 2 s); they stop delivery, not storage.

use super::alerts::{existing_store, sub_setup};
use crate::cli::{AckArgs, AlertsArgs, SilenceArgs, SilencesArgs};
use anyhow::{Context, bail};
use netsnoop_core::Ts;
use netsnoop_core::silence::{Ack, Matcher, Silence};
use netsnoop_core::time::Span;

/// `--author`, else who ran sudo, else the user.
fn author(given: &Option<String>) -> String {
    given
        .clone()
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "unknown".into())
}

pub fn ack(args: &AlertsArgs, a: &AckArgs) -> anyhow::Result<()> {
    let s = sub_setup(args, &a.common)?;
    let store = existing_store(&s)?;
    let ack = Ack {
        alert_id: a.id.clone(),
        author: author(&a.author),
        comment: a.comment.clone(),
        at: Ts::now(),
    };
    if !store
        .ack_alert(&ack)
        .context("storing the acknowledgement")?
    {
        bail!(
            "no stored alert has id {:?}: `netsnoop alerts --format jsonl` shows the ids",
            a.id
        );
    }
    println!("netsnoop: alert {} acknowledged by {}", a.id, ack.author);
    Ok(())
}

pub fn silence(args: &AlertsArgs, a: &SilenceArgs) -> anyhow::Result<()> {
    let s = sub_setup(args, &a.common)?;
    let matcher = Matcher {
        kind: a.kind.clone(),
        host: a.host.clone(),
        subject: a.subject.clone(),
    };
    matcher
        .validate()
        .map_err(|e| anyhow::anyhow!("{e} (--kind, --host, --subject)"))?;
    if a.comment.trim().is_empty() {
        bail!("--comment is empty: say why the alerts are silenced");
    }
    let store = existing_store(&s)?;
    let now = Ts::now();
    let mut silence = Silence {
        id: 0,
        matcher,
        starts_at: now,
        ends_at: now + Span::from(a.duration),
        author: author(&a.author),
        comment: a.comment.clone(),
    };
    silence.id = store.add_silence(&silence).context("storing the silence")?;
    println!(
        "netsnoop: silence {} until {} by {}",
        silence.id,
        s.tf.rfc3339(silence.ends_at),
        silence.author
    );
    Ok(())
}

pub fn list(args: &AlertsArgs, a: &SilencesArgs) -> anyhow::Result<()> {
    let s = sub_setup(args, &a.common)?;
    let store = existing_store(&s)?;
    let now = Ts::now();
    let silences = store.silences((!a.all).then_some(now), 10_000)?;
    for x in &silences {
        let m = serde_json::to_string(&x.matcher)?;
        let state = if x.is_active(now) {
            "active"
        } else {
            "expired"
        };
        println!(
            "{}\t{state}\t{} .. {}\t{m}\t{}\t{}",
            x.id,
            s.tf.rfc3339(x.starts_at),
            s.tf.rfc3339(x.ends_at),
            crate::sinks::term::escape(&x.author),
            crate::sinks::term::escape(&x.comment)
        );
    }
    if silences.is_empty() {
        eprintln!("netsnoop: no silences");
    }
    Ok(())
}
