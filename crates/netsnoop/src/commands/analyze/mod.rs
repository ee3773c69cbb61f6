//! `netsnoop analyze FILE`: offline analysis of a pcap or pcapng file through the same
//! network stages as live capture, with a progress bar on a terminal and a summary (text
//! or one JSON document) at the end. A damaged file is analyzed up to the damage, whose
//! byte offset is reported.

mod engine;
mod report;

use crate::cli::{AnalyzeArgs, ReportFormat};
use crate::config::Overrides;
use crate::setup::setup;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use engine::Analysis;

pub fn run(args: &AnalyzeArgs) -> anyhow::Result<()> {
    let s = setup(&args.common, Overrides::default())?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let progress = Arc::new(AtomicU64::new(0));
    let bar = progress_bar(size);
    let ticker = {
        let (bar, progress) = (bar.clone(), progress.clone());
        std::thread::spawn(move || {
            while !bar.is_finished() {
                bar.set_position(progress.load(Ordering::Relaxed));
                // Parked, not asleep: the end of the analysis wakes it, so joining it
                // does not wait out the rest of a tick.
                std::thread::park_timeout(Duration::from_millis(100));
            }
        })
    };
    let result = engine::run(&args.file, &s.config.network, &progress);
    bar.finish_and_clear();
    ticker.thread().unpark();
    let _ = ticker.join();
    let analysis = result?;
    let file = args.file.display().to_string();
    let mut out = std::io::stdout().lock();
    match args.format {
        ReportFormat::Json => {
            let doc = report::json(&file, &analysis, &s.tf);
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        ReportFormat::Text => {
            let mut text = anstream::AutoStream::auto(out);
            write!(text, "{}", report::text(&file, &analysis, &s.tf))?;
        }
    }
    if let Some(d) = &analysis.damage {
        eprintln!(
            "netsnoop: {file} is damaged at byte {}: {}. The results above cover the {} packets \
             before it; repair the file (e.g. `pcapfix`) or re-capture to analyze the rest.",
            d.offset, d.reason, analysis.packets
        );
    }
    let rate = analysis.packets as f64 / analysis.elapsed.as_secs_f64().max(1e-9);
    tracing::info!(
        "analyzed {} packets in {:.3} s ({:.2} M packets/s)",
        analysis.packets,
        analysis.elapsed.as_secs_f64(),
        rate / 1e6
    );
    Ok(())
}

/// A byte-based bar on stderr when it is a terminal, hidden otherwise.
fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(size), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} analyzing [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}
