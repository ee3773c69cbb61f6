//! The command line (clap derive): the stable surface from DESIGN.md, with examples in
//! every command's `--help`.

use crate::sinks::terminal::Format;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "netsnoop",
    version,
    about = "Watch a Linux host and its network in real time and flag what looks wrong",
    after_help = "Examples:
  netsnoop init                      write a commented config and create the data dir
  sudo netsnoop run                  all monitors, dashboard on http://127.0.0.1:8000
  netsnoop watch --format jsonl      live events and alerts as JSON lines
  netsnoop analyze capture.pcap      offline analysis of a capture file
  netsnoop alerts --since 1h         alerts of the last hour"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented default config, create the data dir and the log headers
    #[command(after_help = "Examples:
  netsnoop init
  netsnoop init --config ./netsnoop.toml --data-dir /srv/netsnoop
  netsnoop init --force              overwrite an existing config with the template")]
    Init(InitArgs),
    /// Everything on one host: process, resource and network monitors, embedded store,
    /// API + dashboard on one port, terminal alerts
    #[command(after_help = "Examples:
  sudo netsnoop run
  sudo netsnoop run --interface eth0 --filter 'tcp or udp'
  netsnoop run --no-capture --listen 127.0.0.1:9000
  netsnoop run --config ./netsnoop.toml --data-dir /tmp/ns")]
    Run(RunArgs),
    /// Terminal only, no server: live process tree and alerts
    #[command(after_help = "Examples:
  sudo netsnoop watch
  netsnoop watch --no-capture --format jsonl | jq 'select(.type == \"alert\")'")]
    Watch(WatchArgs),
    /// Offline network analysis of a pcap or pcapng file
    #[command(after_help = "Examples:
  netsnoop analyze capture.pcap
  netsnoop analyze trace.pcapng --format json > report.json")]
    Analyze(AnalyzeArgs),
    /// API + dashboard over a store; accepts reports from agents
    #[command(after_help = "Examples:
  netsnoop serve
  netsnoop serve --listen 0.0.0.0:8000 --database postgres://netsnoop@db/netsnoop")]
    Serve(ServeArgs),
    /// List stored alerts
    #[command(after_help = "Examples:
  netsnoop alerts
  netsnoop alerts --since 10m
  netsnoop alerts --since 1d --format jsonl")]
    Alerts(AlertsArgs),
    /// Run the monitors and report to a central `netsnoop serve`, spooling locally while
    /// it is away
    #[command(after_help = "Examples:
  NETSNOOP_ENROLL_SECRET=... sudo -E netsnoop agent --server http://monitor:8000
  sudo netsnoop agent --server https://monitor:8000 --ca-file /etc/netsnoop/ca.pem
The enrolment secret is needed once: the agent keeps its own key in the data dir.")]
    Agent(AgentArgs),
    /// List the hosts that report to a server (state, lag, spool); revoke one
    #[command(after_help = "Examples:
  netsnoop hosts
  netsnoop hosts --format jsonl
  netsnoop hosts revoke web-1        its agent gets 401 until it enrols again")]
    Hosts(HostsArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell)
    #[command(after_help = "Examples:
  netsnoop completions bash > /etc/bash_completion.d/netsnoop
  netsnoop completions zsh > \"${fpath[1]}/_netsnoop\"
  netsnoop completions fish > ~/.config/fish/completions/netsnoop.fish")]
    Completions(CompletionsArgs),
    /// Print the man page, or write one page per command into a directory
    #[command(after_help = "Examples:
  netsnoop man | man -l -
  netsnoop man --out-dir /usr/local/share/man/man1")]
    Man(ManArgs),
}

/// Flags every command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Config file [default: /etc/netsnoop/config.toml as root, else
    /// $XDG_CONFIG_HOME/netsnoop/config.toml]
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Data dir for logs and the embedded store [default: /var/lib/netsnoop as root, else
    /// $XDG_DATA_HOME/netsnoop]; overrides paths.data_dir
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct CaptureArgs {
    /// Capture on this interface (repeat for several); overrides capture.interfaces
    #[arg(long = "interface", short = 'i', value_name = "IF")]
    pub interfaces: Vec<String>,
    /// BPF filter expression (tcpdump syntax); overrides capture.filter
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Do not capture packets (process and resource monitors still run)
    #[arg(long)]
    pub no_capture: bool,
    /// Exec event source: auto (eBPF, else proc connector, else /proc polling), ebpf,
    /// netlink or poll; overrides process.source.exec_source
    #[arg(long, value_name = "SOURCE")]
    pub exec_source: Option<netsnoop_core::process::exec_source::ExecSourceChoice>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub common: Common,
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// API and dashboard address; overrides server.listen
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Database URL (e.g. postgres://USER@HOST/DB); overrides store.database
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// Output format: colored text, or one JSON object per line with a `type` field
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub common: Common,
    /// The capture file (pcap or pcapng)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: Common,
    /// API and dashboard address; overrides server.listen
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Database URL; overrides store.database
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct AlertsArgs {
    #[command(flatten)]
    pub common: Common,
    /// Only alerts seen within this long (e.g. 10m, 2h, 1d)
    #[arg(long, value_name = "DURATION", value_parser = parse_since)]
    pub since: Option<Duration>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(subcommand)]
    pub action: Option<AlertsAction>,
}

#[derive(Debug, Subcommand)]
pub enum AlertsAction {
    /// Send a test alert through one configured output and report the result
    Test(AlertsTestArgs),
    /// Acknowledge an alert episode: it is no longer delivered (still stored and shown)
    Ack(AckArgs),
    /// Silence matching alerts for a while: not delivered, still stored and shown
    Silence(SilenceArgs),
    /// List silences (in force now, or --all)
    Silences(SilencesArgs),
}

#[derive(Debug, Args)]
pub struct AckArgs {
    /// The alert's id (as `netsnoop alerts --format jsonl` shows it)
    pub id: String,
    /// Who acknowledges [default: $SUDO_USER, else $USER]
    #[arg(long)]
    pub author: Option<String>,
    #[arg(long, default_value = "")]
    pub comment: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct SilenceArgs {
    /// Alert kinds (glob, e.g. `cpu.*`)
    #[arg(long)]
    pub kind: Option<String>,
    /// Host names (glob)
    #[arg(long)]
    pub host: Option<String>,
    /// Subjects: pid, process name, user, command or IP (glob)
    #[arg(long)]
    pub subject: Option<String>,
    /// How long (e.g. 30m, 2h, 1d)
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_since)]
    pub duration: Duration,
    /// Who silences [default: $SUDO_USER, else $USER]
    #[arg(long)]
    pub author: Option<String>,
    /// Why (required: a silence nobody can explain is never lifted)
    #[arg(long)]
    pub comment: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct SilencesArgs {
    /// Also the expired ones
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct AlertsTestArgs {
    /// The output's name (`name` of an [[outputs]] section)
    #[arg(long, value_name = "NAME")]
    pub output: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct AgentArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub capture: CaptureArgs,
    /// URL of the central `netsnoop serve`; overrides agent.server
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// PEM file of a private CA that signed the server's certificate; overrides
    /// agent.ca_file
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct HostsArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    #[command(subcommand)]
    pub action: Option<HostsAction>,
}

#[derive(Debug, Subcommand)]
pub enum HostsAction {
    /// Revoke a host's agent key (by id or hostname): its batches get 401
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The host's id or hostname
    pub host: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write netsnoop.1 and netsnoop-COMMAND.1 here instead of printing netsnoop.1
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

fn parse_since(s: &str) -> Result<Duration, String> {
    crate::time::parse_duration(s).map_err(|e| format!("{e:#}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_command_shows_examples_in_its_help() {
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            let help = sub.render_long_help().to_string();
            assert!(
                help.contains("Example"),
                "{} --help has no examples",
                sub.get_name()
            );
            // The generators print what they make and read no config.
            if ["completions", "man"].contains(&sub.get_name()) {
                continue;
            }
            assert!(
                help.contains("--config") && help.contains("--data-dir"),
                "{}",
                sub.get_name()
            );
        }
    }

    #[test]
    fn interfaces_repeat_and_since_takes_human_durations() {
        let cli = Cli::try_parse_from([
            "netsnoop",
            "run",
            "--interface",
            "lo",
            "-i",
            "eth0",
            "--no-capture",
        ])
        .unwrap();
        let Command::Run(run) = cli.command else {
            panic!()
        };
        assert_eq!(run.capture.interfaces, ["lo", "eth0"]);
        let cli = Cli::try_parse_from(["netsnoop", "alerts", "--since", "2h"]).unwrap();
        let Command::Alerts(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.since, Some(Duration::from_secs(7200)));
        assert!(Cli::try_parse_from(["netsnoop", "alerts", "--since", "soon"]).is_err());
        assert!(Cli::try_parse_from(["netsnoop", "watch", "--format", "xml"]).is_err());
    }
}
