//! `netsnoop alerts`: lists stored alerts, oldest first, as colored text or JSON lines.

use crate::cli::AlertsArgs;
use crate::config::Overrides;
use crate::setup::setup;
use crate::sinks::terminal::Format;
use crate::sinks::{jsonl, term};
use anyhow::bail;
use netsnoop_store::AlertFilter;
use std::io::Write;

/// More than any screen shows; the store caps queries here too.
const LIMIT: u32 = 10_000;

pub fn run(args: &AlertsArgs) -> anyhow::Result<()> {
    let s = setup(&args.common, Overrides::default())?;
    let spec = s.config.store.database_spec(&s.data_dir);
    // Listing must not create an empty database where none was: say where to look instead.
    if let Some(path) = spec.strip_prefix("sqlite:")
        && !std::path::Path::new(path).exists()
    {
        bail!(
            "no store at {path} yet: `netsnoop run` creates it (or pass the --data-dir/--config it used)"
        );
    }
    let store = crate::sinks::store::open(&s.config.store, &s.data_dir)?;
    let since = args
        .since
        .map(|d| netsnoop_core::Ts::now() - netsnoop_core::time::Span::from(d));
    let mut alerts = store.alerts(&AlertFilter {
        since,
        limit: LIMIT,
        ..AlertFilter::default()
    })?;
    alerts.reverse();
    let mut out = anstream::stdout().lock();
    for a in &alerts {
        match args.format {
            Format::Text => writeln!(out, "{}", term::alert_line(a, &s.tf))?,
            Format::Jsonl => out.write_all(&jsonl::line(&jsonl::alert(a, None, &s.tf)))?,
        }
    }
    if args.format == Format::Text && alerts.is_empty() {
        let window = match args.since {
            Some(_) => " in that time",
            None => "",
        };
        eprintln!("netsnoop: no alerts stored{window}");
    }
    Ok(())
}
