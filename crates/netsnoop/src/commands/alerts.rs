//! `netsnoop alerts`: lists stored alerts, oldest first, as colored text or JSON lines.

use crate::cli::{AlertsAction, AlertsArgs, AlertsTestArgs, Common};
use crate::config::Overrides;
pub(crate) use crate::setup::Setup;
use crate::setup::setup;
use crate::sinks::terminal::Format;
use crate::sinks::{jsonl, term};
use anyhow::bail;
use netsnoop_store::AlertFilter;
use std::io::Write;

/// More than any screen shows; the store caps queries here too.
const LIMIT: u32 = 10_000;

pub fn run(args: &AlertsArgs) -> anyhow::Result<()> {
    match &args.action {
        Some(AlertsAction::Test(t)) => return test_output(args, t),
        Some(AlertsAction::Ack(a)) => return super::silence::ack(args, a),
        Some(AlertsAction::Silence(a)) => return super::silence::silence(args, a),
        Some(AlertsAction::Silences(a)) => return super::silence::list(args, a),
        None => {}
    }
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
    let store = crate::sinks::store::open(&s)?;
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

/// The subcommand's `--config`/`--data-dir`, else the ones given before it.
pub(crate) fn sub_setup(args: &AlertsArgs, sub: &Common) -> anyhow::Result<Setup> {
    let common = Common {
        config: sub.config.clone().or(args.common.config.clone()),
        data_dir: sub.data_dir.clone().or(args.common.data_dir.clone()),
    };
    setup(&common, Overrides::default())
}

/// The store `run` writes, refusing to create one where none is.
pub(crate) fn existing_store(
    s: &Setup,
) -> anyhow::Result<std::sync::Arc<dyn netsnoop_store::Store>> {
    let spec = s.config.store.database_spec(&s.data_dir);
    if let Some(path) = spec.strip_prefix("sqlite:")
        && !std::path::Path::new(path).exists()
    {
        bail!(
            "no store at {path} yet: `netsnoop run` creates it (or pass the --data-dir/--config it used)"
        );
    }
    crate::sinks::store::open(s)
}

/// `netsnoop alerts test --output NAME`: one test alert through one output, at once.
fn test_output(args: &AlertsArgs, t: &AlertsTestArgs) -> anyhow::Result<()> {
    let s = sub_setup(args, &t.common)?;
    let Some(out) = s.config.outputs.iter().find(|o| o.name == t.output) else {
        let names: Vec<&str> = s.config.outputs.iter().map(|o| o.name.as_str()).collect();
        bail!(
            "no output named {:?} in {}: the configured outputs are [{}]",
            t.output,
            s.config_path.display(),
            names.join(", ")
        );
    };
    let host = netsnoop_deliver::hostname();
    match netsnoop_deliver::send_test(out, &host) {
        Ok(()) => {
            println!(
                "netsnoop: test alert delivered through output {} ({})",
                out.name,
                out.kind()
            );
            Ok(())
        }
        Err(e) => bail!(
            "test alert through output {} ({}) failed: {e}",
            out.name,
            out.kind()
        ),
    }
}
