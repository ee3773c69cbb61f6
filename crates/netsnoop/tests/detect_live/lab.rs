//! A two-namespace lab for live attacks: attacker and target joined by a veth pair, with
//! private addresses inside the namespaces only, deleted (with everything in them) on drop.

use netsnoop_test_support::KillOnDrop;
use std::process::{Command, Output, Stdio};

pub struct Lab {
    pub attacker: String,
    pub target: String,
    /// Third octet of every lab network: 10.213.N.0/24 (the link), 10.214.N.0/24 (all
    /// addresses answered by the target), 10.215.N.0/24 (routed to the target, silent).
    pub n: u8,
    pub children: Vec<KillOnDrop>,
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ip(args: &str) {
    run(Command::new("ip").args(args.split_whitespace()));
}

impl Lab {
    pub fn new() -> Lab {
        let pid = std::process::id();
        let n = (pid % 200) as u8 + 20;
        let lab = Lab {
            attacker: format!("nsdA{pid}"),
            target: format!("nsdT{pid}"),
            n,
            children: Vec::new(),
        };
        let (a, t) = (&lab.attacker, &lab.target);
        ip(&format!("netns add {a}"));
        ip(&format!("netns add {t}"));
        ip(&format!(
            "link add vA netns {a} type veth peer name vT netns {t}"
        ));
        ip(&format!("-n {a} addr add 10.213.{n}.1/24 dev vA"));
        for i in 10..=40 {
            ip(&format!("-n {a} addr add 10.213.{n}.{i}/24 dev vA"));
        }
        ip(&format!("-n {t} addr add 10.213.{n}.2/24 dev vT"));
        for ns in [a, t] {
            ip(&format!("-n {ns} link set lo up"));
        }
        ip(&format!("-n {a} link set vA up"));
        ip(&format!("-n {t} link set vT up"));
        ip(&format!("-n {t} route add local 10.214.{n}.0/24 dev lo"));
        ip(&format!(
            "-n {a} route add 10.214.{n}.0/24 via 10.213.{n}.2"
        ));
        ip(&format!(
            "-n {a} route add 10.215.{n}.0/24 via 10.213.{n}.2"
        ));
        lab
    }

    /// `ip -n <attacker> ARGS`.
    pub fn ip_in_attacker(&self, args: &str) {
        ip(&format!("-n {} {args}", self.attacker));
    }

    /// An address on the link: the attacker has .1 and .10–.40, the target .2; .254 is the
    /// gateway the target's netsnoop is told of.
    pub fn link(&self, host: u8) -> String {
        format!("10.213.{}.{host}", self.n)
    }

    /// A command run inside namespace `ns`.
    pub fn cmd(&self, ns: &str, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", ns, program]);
        c.stdin(Stdio::null());
        c
    }

    /// Runs a bounded attack in the attacker's namespace (killed after `secs`).
    pub fn attack(&self, secs: u32, program: &str, args: &[&str]) -> Output {
        let mut c = self.cmd(&self.attacker, "timeout");
        c.arg(secs.to_string()).arg(program).args(args);
        c.output().expect("attack runs")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            c.stop();
        }
        for ns in [&self.attacker, &self.target] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
