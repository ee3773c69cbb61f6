//! Instigator tracing: walk up from a burst's parent to the first meaningful program (a
//! script, an interpreter, a build tool or a user program) past shells and session managers.

use crate::process::config::InstigatorConfig;
use crate::process::table::{Proc, ProcId, ProcessTable};
use serde::Serialize;

/// Longest command shown in an alert message.
pub const DISPLAY_MAX: usize = 120;

/// Why a process was judged to be the one behind a burst.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum Why {
    /// Runs a script (named by extension, or given to a shell or interpreter).
    Script(String),
    Interpreter,
    BuildTool,
    /// An executable outside the system paths.
    UserProgram,
    /// Nothing meaningful above the parent: the parent itself is named.
    Parent,
}

/// The program found behind a burst and the chain above it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Instigator {
    pub pid: u32,
    pub comm: String,
    /// The command line joined for display (comm when argv is unknown).
    pub command: String,
    pub why: Why,
    /// Names of the ancestors above the instigator, nearest first, pid 1 left out.
    pub chain: Vec<String>,
}

impl Instigator {
    /// `make -j8 all (PID 9301) ← bash ← sshd`
    /// A long command line is cut to [`DISPLAY_MAX`] characters; `command` keeps it whole.
    pub fn display(&self) -> String {
        let mut command: String = self.command.chars().take(DISPLAY_MAX).collect();
        if command.len() < self.command.len() {
            command.push('…');
        }
        let mut s = format!("{command} (PID {})", self.pid);
        for name in &self.chain {
            s.push_str(" ← ");
            s.push_str(name);
        }
        s
    }
}

pub struct Tracer {
    cfg: InstigatorConfig,
    self_pid: Option<u32>,
}

impl Tracer {
    pub fn new(cfg: InstigatorConfig) -> Tracer {
        Tracer {
            cfg,
            self_pid: None,
        }
    }

    /// NetSnoop's own pid, always walked past.
    pub fn with_self_pid(mut self, pid: u32) -> Tracer {
        self.self_pid = Some(pid);
        self
    }

    /// Walks up from `from` (inclusive). Falls back to `from` itself when nothing above it
    /// is meaningful.
    pub fn trace(&self, table: &ProcessTable, from: ProcId) -> Option<Instigator> {
        let lineage = table.lineage(from);
        let first = *lineage.first()?;
        let (at, why) = lineage
            .iter()
            .enumerate()
            .find_map(|(i, p)| self.classify(p).map(|why| (i, why)))
            .unwrap_or((0, Why::Parent));
        let p = if at == 0 { first } else { lineage[at] };
        let chain = lineage[at + 1..]
            .iter()
            .filter(|q| q.pid > 1)
            .map(|q| q.comm.clone())
            .collect();
        Some(Instigator {
            pid: p.pid,
            comm: p.comm.clone(),
            command: command_line(p),
            why,
            chain,
        })
    }

    /// Whether `p` is a meaningful program, and why; None means walk past it.
    pub fn classify(&self, p: &Proc) -> Option<Why> {
        if p.pid <= 2 || Some(p.pid) == self.self_pid {
            return None;
        }
        let names = names(p);
        let is = |list: &[String]| names.iter().any(|n| in_list(list, n));
        if is(&self.cfg.skip) {
            return None;
        }
        if let Some(script) = self.script_of(p, &names) {
            return Some(Why::Script(script));
        }
        if is(&self.cfg.shells) {
            return None;
        }
        if is(&self.cfg.interpreters) {
            return Some(Why::Interpreter);
        }
        if is(&self.cfg.build_tools) {
            return Some(Why::BuildTool);
        }
        let exe = p.exe.as_deref()?;
        let system = self
            .cfg
            .system_paths
            .iter()
            .any(|prefix| exe.starts_with(prefix.as_str()));
        (!system && exe.starts_with('/')).then_some(Why::UserProgram)
    }

    fn script_of(&self, p: &Proc, names: &[&str]) -> Option<String> {
        let has_ext = |s: &str| {
            let base = basename(s);
            base.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && self.cfg.script_extensions.iter().any(|e| e == ext)
            })
        };
        if let Some(a0) = p.argv.first().filter(|a| has_ext(a)) {
            return Some(a0.clone());
        }
        let is_shell = names.iter().any(|n| in_list(&self.cfg.shells, n));
        let is_interpreter = names.iter().any(|n| in_list(&self.cfg.interpreters, n));
        if (is_shell || is_interpreter)
            && let Some(script) = first_operand(&p.argv, is_shell)
        {
            return Some(script);
        }
        has_ext(&p.comm).then(|| p.comm.clone())
    }
}

/// The first operand after options is the script, unless an option said the code comes
/// inline (`sh -c`, `perl -e`) or from a module (`python -m`).
fn first_operand(argv: &[String], shell: bool) -> Option<String> {
    for arg in argv.iter().skip(1) {
        let inline = if shell {
            arg == "-c"
        } else {
            matches!(arg.as_str(), "-c" | "-e" | "-m" | "-E" | "--eval" | "-")
        };
        if inline {
            return None;
        }
        if !arg.starts_with('-') {
            return Some(arg.clone());
        }
    }
    None
}

/// Everything a process may be known by: comm, executable and argv[0] base names.
fn names(p: &Proc) -> Vec<&str> {
    let mut v = vec![p.comm.as_str()];
    if let Some(exe) = &p.exe {
        v.push(basename(exe));
    }
    if let Some(a0) = p.argv.first() {
        v.push(basename(a0));
    }
    v.retain(|s| !s.is_empty());
    v
}

/// Matches exactly, or after dropping a version suffix (`python3.11` → `python`,
/// `gcc-12` → `gcc`).
fn in_list(list: &[String], name: &str) -> bool {
    let bare = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
    list.iter()
        .any(|l| l == name || (!bare.is_empty() && l == bare))
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// argv joined by spaces for display, or the comm when argv is unknown.
pub fn command_line(p: &Proc) -> String {
    if p.argv.is_empty() {
        p.comm.clone()
    } else {
        p.argv.join(" ")
    }
}
