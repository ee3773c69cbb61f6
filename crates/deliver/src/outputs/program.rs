//! Program output: one JSON line per alert on a command's stdin, as Falco's
//! `program_output` does; the command is started on first use and again if it exits.

use super::{Context, Output, SendError, utc};
use crate::config::ProgramConfig;
use netsnoop_core::Alert;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Child, ChildStdin, Command, Stdio};

pub struct Program {
    command: String,
    child: Option<(Child, ChildStdin)>,
}

impl Program {
    pub fn new(c: &ProgramConfig) -> Program {
        Program {
            command: c.command.clone(),
            child: None,
        }
    }

    fn stdin(&mut self) -> Result<&mut ChildStdin, SendError> {
        if self.child.is_none() {
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(&self.command)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| SendError::Transient(format!("cannot start the program: {e}")))?;
            let stdin = child
                .stdin
                .take()
                .ok_or_else(|| SendError::Transient("the program has no stdin".into()))?;
            self.child = Some((child, stdin));
        }
        match &mut self.child {
            Some((_, stdin)) => Ok(stdin),
            None => Err(SendError::Transient("the program is not running".into())),
        }
    }

    fn reap(&mut self) {
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin);
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The line for one alert: `type: "alert"`, the alert's fields, its host, RFC 3339 times.
pub fn line(a: &Alert, host: &str) -> Value {
    let mut v = serde_json::to_value(a).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("type".into(), json!("alert"));
        m.insert("host".into(), json!(host));
        m.insert("first_seen".into(), json!(utc(a.first_seen)));
        m.insert("last_seen".into(), json!(utc(a.last_seen)));
    }
    v
}

impl Output for Program {
    fn send(&mut self, alerts: &[Alert], ctx: &Context) -> Result<(), SendError> {
        let mut text = String::new();
        for a in alerts {
            text.push_str(&line(a, &ctx.host).to_string());
            text.push('\n');
        }
        let written = self.stdin().and_then(|s| {
            s.write_all(text.as_bytes())
                .and_then(|()| s.flush())
                .map_err(|e| SendError::Transient(format!("the program stopped reading: {e}")))
        });
        if written.is_err() {
            self.reap();
        }
        written
    }

    fn per_alert(&self) -> bool {
        true
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        // Closing stdin lets the program finish what it read; then it is waited for.
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}
