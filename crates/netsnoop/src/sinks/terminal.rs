//! The terminal sink: colored alert lines (text) or JSON lines on stdout. Colors go
//! through anstream, which drops them for pipes, files and NO_COLOR.

use super::{Change, Changes, SessionEnd, Sink};
use crate::sinks::{jsonl, proctree, term};
use crate::time::TimeFmt;
use netsnoop_core::process::group::AlertGroups;
use netsnoop_core::resource::{ResourceConfig, SampleThrottle, trim_to_top_n};
use netsnoop_core::time::Span;
use netsnoop_core::{Alert, Event, ProcEventKind, Record};
use std::io::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Jsonl,
}

pub struct Terminal<W: Write + Send> {
    out: W,
    format: Format,
    tf: TimeFmt,
    changes: Changes,
    /// Event types printed in JSON-lines mode (the same list as events.jsonl).
    event_types: Vec<String>,
    /// `watch`: draw each new process as a tree (text mode).
    process_tree: bool,
    /// `watch`: burst alerts held and shown together over the grouping window.
    groups: Option<AlertGroups>,
    /// JSON lines: resource samples at most this often, trimmed to this many processes.
    samples: Option<(SampleThrottle, usize)>,
}

impl Terminal<anstream::AutoStream<std::io::Stdout>> {
    pub fn stdout(format: Format, tf: TimeFmt, event_types: Vec<String>) -> Self {
        Terminal::new(anstream::stdout(), format, tf, event_types)
    }
}

impl<W: Write + Send> Terminal<W> {
    pub fn new(out: W, format: Format, tf: TimeFmt, event_types: Vec<String>) -> Self {
        Terminal {
            out,
            format,
            tf,
            changes: Changes::default(),
            event_types,
            process_tree: false,
            groups: None,
            samples: None,
        }
    }

    /// JSON lines: also write resource samples, at most once per
    /// `resources.jsonl_samples_every_secs` (0: none) and with only the top
    /// `resources.top_n` processes, unless `resources` is among the event types (then
    /// every sample, still trimmed).
    pub fn with_resource_samples(mut self, cfg: &ResourceConfig) -> Self {
        let every = Span::secs(cfg.jsonl_samples_every_secs as i64);
        self.samples = Some((SampleThrottle::new(every), cfg.top_n));
        self
    }

    /// `watch`'s text view: a tree per new process, and burst alerts grouped over
    /// `group_secs` as the original printed them.
    pub fn with_process_tree(mut self, group_secs: f64) -> Self {
        self.process_tree = true;
        self.groups = Some(AlertGroups::new(group_secs));
        self
    }

    fn print_group(&mut self, force: bool) -> std::io::Result<()> {
        let Some(groups) = &mut self.groups else {
            return Ok(());
        };
        let Some(alerts) = groups.due(netsnoop_core::Ts::now(), force) else {
            return Ok(());
        };
        match alerts.as_slice() {
            [] => {}
            [one] => writeln!(self.out, "{}", term::alert_line(one, &self.tf))?,
            many => write!(self.out, "{}", proctree::grouped(many, &self.tf))?,
        }
        Ok(())
    }

    fn groups_burst(&self, a: &Alert) -> bool {
        self.groups.is_some() && a.kind == "process.burst" && a.is_active()
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn text(&mut self, r: &Record) -> std::io::Result<()> {
        match r {
            Record::Alert(a) => {
                let change = self.changes.classify(a);
                if change.is_news() && self.groups_burst(a) {
                    let now = netsnoop_core::Ts::now();
                    if let Some(g) = &mut self.groups {
                        g.push(a.clone(), now);
                    }
                } else if change.is_news() {
                    let up = if change == Change::Escalated {
                        " ⬆"
                    } else {
                        ""
                    };
                    writeln!(self.out, "{}{up}", term::alert_line(a, &self.tf))?;
                }
            }
            Record::Event(Event::Loss(l)) => writeln!(
                self.out,
                "[{}] ⚠ lost {} events from {} ({})",
                self.tf.rfc3339(l.time),
                l.count,
                term::escape(&l.source),
                term::escape(&l.reason)
            )?,
            Record::Event(Event::Process(p))
                if self.process_tree && p.kind == ProcEventKind::Exec =>
            {
                write!(self.out, "{}", proctree::render(p, &self.tf))?
            }
            Record::Event(_) => {}
        }
        Ok(())
    }

    fn json(&mut self, r: &Record) -> std::io::Result<()> {
        let value = match r {
            Record::Alert(a) => {
                let change = self.changes.classify(a);
                if !change.is_news() {
                    return Ok(());
                }
                jsonl::alert(a, Some(change), &self.tf)
            }
            Record::Event(e) => {
                let listed = self.event_types.iter().any(|t| t == e.type_name());
                if let (Event::Resources(s), Some((throttle, top_n))) = (e, &mut self.samples) {
                    if !listed && !throttle.admit(s.system.time) {
                        return Ok(());
                    }
                    let trimmed = Event::Resources(trim_to_top_n(s, *top_n));
                    jsonl::event(&trimmed, &self.tf)
                } else if listed {
                    jsonl::event(e, &self.tf)
                } else {
                    return Ok(());
                }
            }
        };
        self.out.write_all(&jsonl::line(&value))
    }
}

impl<W: Write + Send> Sink for Terminal<W> {
    fn name(&self) -> String {
        match self.format {
            Format::Text => "terminal".into(),
            Format::Jsonl => "terminal (jsonl)".into(),
        }
    }

    fn accept(&mut self, records: &[Record]) -> anyhow::Result<()> {
        for r in records {
            match self.format {
                Format::Text => self.text(r)?,
                Format::Jsonl => self.json(r)?,
            }
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        self.print_group(false)?;
        self.out.flush()?;
        Ok(())
    }

    fn close(&mut self, _end: &SessionEnd) -> anyhow::Result<()> {
        self.print_group(true)?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netsnoop_core::{Alert, AlertState, Severity, Subject, Ts};

    fn alert(sev: Severity) -> Record {
        Record::Alert(Alert {
            host: None,
            id: "cpu/1".into(),
            kind: "cpu.process.high".into(),
            severity: sev,
            label: None,
            state: AlertState::Active,
            first_seen: Ts(0),
            last_seen: Ts(0),
            subject: Subject::process(1, "x\x1b]0;pwned\x07"),
            message: "hot".into(),
            details: serde_json::Value::Null,
        })
    }

    #[test]
    fn without_a_terminal_the_lines_carry_no_color_and_no_raw_control_codes() {
        let buf = anstream::StripStream::new(Vec::new());
        let mut t = Terminal::new(buf, Format::Text, TimeFmt::utc(), vec![]);
        t.accept(&[
            alert(Severity::High),
            alert(Severity::High),
            alert(Severity::Critical),
        ])
        .unwrap();
        let text = String::from_utf8(t.into_inner().into_inner()).unwrap();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
        assert_eq!(
            text.lines().count(),
            2,
            "update skipped, escalation shown: {text}"
        );
        assert!(text.contains("x\\e]0;pwned\\u{7}"), "{text}");
    }

    #[test]
    fn jsonl_mode_writes_one_object_per_line_with_a_type() {
        let mut t = Terminal::new(
            Vec::new(),
            Format::Jsonl,
            TimeFmt::utc(),
            vec!["process".into()],
        );
        t.accept(&[
            alert(Severity::High),
            Record::Event(Event::Process(Default::default())),
            Record::Event(Event::Packet(Default::default())),
        ])
        .unwrap();
        let text = String::from_utf8(t.into_inner()).unwrap();
        let types: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["type"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(types, ["alert", "process"]);
    }

    #[test]
    fn jsonl_resource_samples_are_rate_limited_and_trimmed_to_the_top_processes() {
        use netsnoop_core::{ProcSample, ResourceSample, SystemSample};
        let cfg = netsnoop_core::resource::ResourceConfig {
            jsonl_samples_every_secs: 10,
            top_n: 1,
            ..Default::default()
        };
        let mut t = Terminal::new(Vec::new(), Format::Jsonl, TimeFmt::utc(), vec![])
            .with_resource_samples(&cfg);
        let sample = |secs: i64| {
            let p = |pid: u32, cpu_pct: f64, rss_bytes: u64| ProcSample {
                pid,
                cpu_pct,
                rss_bytes,
                ..ProcSample::default()
            };
            Record::Event(Event::Resources(ResourceSample {
                host: None,
                system: SystemSample {
                    time: Ts::from_secs(secs),
                    ..SystemSample::default()
                },
                processes: vec![p(1, 50.0, 1), p(2, 0.0, 900), p(3, 1.0, 2)],
            }))
        };
        let records: Vec<Record> = (0..25).map(sample).collect();
        t.accept(&records).unwrap();
        let text = String::from_utf8(t.into_inner()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "one sample per 10 s: {text}");
        let pids: Vec<u64> = lines[0]["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["pid"].as_u64().unwrap())
            .collect();
        assert_eq!(pids, [1, 2], "top 1 by CPU and top 1 by memory");
        assert!(lines.iter().all(|l| l["type"] == "resources"));
    }
}
