//! Tests of the config file: the template, every kind of refusal, and overrides.

use super::*;
use netsnoop_core::process::exec_source::ExecSourceChoice;
use std::path::Path;

const FILE: &str = "/etc/netsnoop/test.toml";

fn refuse(text: &str) -> String {
    match parse(text, Path::new(FILE)) {
        Ok(c) => panic!("accepted {text:?} as {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_template_parses_to_exactly_the_defaults() {
    let text = template::render(None);
    let parsed = parse(&text, Path::new(FILE)).unwrap();
    assert_eq!(parsed, Config::default());
}

#[test]
fn every_section_of_the_defaults_appears_in_the_template() {
    let text = template::render(None);
    let defaults = toml::to_string(&Config::default()).unwrap();
    for line in defaults.lines().filter(|l| l.starts_with('[')) {
        assert!(text.contains(line), "template lacks {line}");
    }
}

#[test]
fn the_template_with_a_data_dir_sets_only_that() {
    let text = template::render(Some(Path::new("/srv/net \"snoop\"")));
    let parsed = parse(&text, Path::new(FILE)).unwrap();
    let mut want = Config::default();
    want.paths.data_dir = Some("/srv/net \"snoop\"".into());
    assert_eq!(parsed, want);
}

#[test]
fn an_empty_file_means_the_defaults() {
    assert_eq!(parse("", Path::new(FILE)).unwrap(), Config::default());
}

#[test]
fn a_missing_file_means_the_defaults_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = load(&dir.path().join("absent.toml")).unwrap();
    assert!(!loaded.found);
    assert_eq!(loaded.config, Config::default());
}

#[test]
fn an_unknown_key_is_refused_with_the_file_and_the_key() {
    let msg = refuse("[logs]\nkeep = 3\nkept = 4\n");
    assert!(msg.contains(FILE), "{msg}");
    assert!(msg.contains("key `logs.kept`"), "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
}

#[test]
fn an_unknown_section_is_refused() {
    let msg = refuse("[logz]\nkeep = 3\n");
    assert!(
        msg.contains("key `logz`") && msg.contains("unknown field"),
        "{msg}"
    );
}

#[test]
fn a_wrong_type_is_refused_with_the_key_and_the_expected_type() {
    let msg = refuse("[logs]\nkeep = \"five\"\n");
    assert!(msg.contains("key `logs.keep`"), "{msg}");
    assert!(msg.contains("invalid type"), "{msg}");
    let msg = refuse("[server]\nlisten = \"localhost\"\n");
    assert!(msg.contains("key `server.listen`"), "{msg}");
}

#[test]
fn out_of_range_values_are_refused_and_all_reported_at_once() {
    let msg = refuse(
        "[logs]\nkeep = 500\n\n[network.capture]\nsnaplen = 10\n\n[resources]\ninterval_ms = 5\n",
    );
    assert!(msg.contains("3 problems"), "{msg}");
    assert!(
        msg.contains("key `logs.keep`: must be between 0 and 100, got 500 (line 2, column 1)"),
        "{msg}"
    );
    assert!(msg.contains("key `network.capture.snaplen`"), "{msg}");
    assert!(
        msg.contains("key `resources.interval_ms`: 5 is out of range"),
        "{msg}"
    );
}

#[test]
fn a_bad_duration_names_the_key_and_the_accepted_forms() {
    let msg = refuse("[store.keep]\nflows = \"a while\"\n");
    assert!(msg.contains("key `store.keep.flows`"), "{msg}");
    assert!(msg.contains("10m") && msg.contains("forever"), "{msg}");
    let c = parse("[store.keep]\nalerts = \"forever\"\n", Path::new(FILE)).unwrap();
    assert_eq!(c.store.keep.alerts.get(), None);
    assert_eq!(
        c.store.keep.flows.get(),
        Some(std::time::Duration::from_secs(7 * 86_400))
    );
}

#[test]
fn an_unknown_time_zone_is_refused() {
    let msg = refuse("[general]\ntimezone = \"Asia/Atlantis\"\n");
    assert!(msg.contains("key `general.timezone`"), "{msg}");
}

#[test]
fn kolkata_is_one_setting_away() {
    let c = parse("[general]\ntimezone = \"Asia/Kolkata\"\n", Path::new(FILE)).unwrap();
    assert_eq!(c.general.timezone, "Asia/Kolkata");
}

#[test]
fn the_csv_time_format_takes_a_strftime_pattern_and_refuses_one_jiff_cannot_render() {
    let c = parse(
        "[logs]\ncsv_time_format = \"%Y-%m-%d %H:%M:%S %Z\"\n",
        Path::new(FILE),
    )
    .unwrap();
    assert_eq!(
        c.logs.csv_time_format.as_deref(),
        Some("%Y-%m-%d %H:%M:%S %Z")
    );
    let msg = refuse("[logs]\ncsv_time_format = \"%Y-%m-%d %\"\n");
    assert!(msg.contains("logs.csv_time_format"), "{msg}");
    let msg = refuse("[logs]\ncsv_time_format = \" \"\n");
    assert!(msg.contains("RFC 3339"), "{msg}");
}

#[test]
fn bad_toml_is_refused_with_the_line() {
    let msg = refuse("[logs\nkeep = 3\n");
    assert!(msg.contains("not valid TOML"), "{msg}");
    assert!(msg.contains("line 1"), "{msg}");
}

#[test]
fn a_relative_data_dir_and_a_short_token_are_refused() {
    let msg = refuse("[paths]\ndata_dir = \"data\"\n[server]\ntoken = \"abc\"\n");
    assert!(
        msg.contains("key `paths.data_dir`: must be an absolute path"),
        "{msg}"
    );
    assert!(msg.contains("key `server.token`"), "{msg}");
}

#[test]
fn flags_override_the_file() {
    let mut c = parse(
        "[network.capture]\ninterfaces = [\"eth0\"]\nfilter = \"tcp\"\n[server]\nlisten = \"127.0.0.1:9000\"\n",
        Path::new(FILE),
    )
    .unwrap();
    c.apply(&Overrides {
        data_dir: Some("/tmp/d".into()),
        listen: Some("127.0.0.1:9100".parse().unwrap()),
        interfaces: vec!["lo".into()],
        filter: Some("udp".into()),
        no_capture: true,
        exec_source: Some(ExecSourceChoice::Poll),
    });
    assert_eq!(c.paths.data_dir.as_deref(), Some(Path::new("/tmp/d")));
    assert_eq!(c.server.listen.port(), 9100);
    assert_eq!(c.network.capture.interfaces, vec!["lo".to_string()]);
    assert_eq!(c.network.capture.filter.as_deref(), Some("udp"));
    assert!(!c.network.capture.enabled);
    assert_eq!(c.process.source.exec_source, ExecSourceChoice::Poll);
}

#[test]
fn absent_flags_leave_the_file_alone() {
    let mut c = parse(
        "[network.capture]\ninterfaces = [\"eth0\"]\n",
        Path::new(FILE),
    )
    .unwrap();
    c.apply(&Overrides::default());
    assert_eq!(c.network.capture.interfaces, vec!["eth0".to_string()]);
    assert!(c.network.capture.enabled);
}

#[test]
fn an_impossible_interface_name_is_refused() {
    let msg = refuse("[network.capture]\ninterfaces = [\"eth0 eth1\"]\n");
    assert!(msg.contains("key `network.capture.interfaces`"), "{msg}");
}

#[test]
fn a_detector_section_takes_partial_settings() {
    let c = parse("[process.burst]\n", Path::new(FILE)).unwrap();
    assert_eq!(c.process, Default::default());
    let msg = refuse("[process.burst]\nthreshold_typo = 3\n");
    assert!(msg.contains("key `process.burst.threshold_typo`"), "{msg}");
}

/// Every `.rs` file under `crates/*/src`, its test code and comments cut off, split into
/// the config modules and the rest.
fn workspace_sources() -> (Vec<String>, String) {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if src.is_dir() {
            walk(&src, &mut files);
        }
    }
    let (mut config, mut rest) = (Vec::new(), String::new());
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let before_tests = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Comments name keys too; only code counts.
        let code: String = before_tests
            .lines()
            .map(|l| l.split("//").next().unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n");
        let name = f.to_string_lossy();
        if name.contains("/config") || name.contains("tests") {
            config.push(code);
        } else {
            rest.push_str(&code);
        }
    }
    (config, rest)
}

/// Keys whose value is a map of the user's own names (program -> option letters): the
/// key is documented, its entries are data.
const MAP_KEYS: &[&str] = &["redact.short_options"];

/// The documented keys of the template (`paths.data_dir` uncommented), as dotted paths.
fn documented_keys() -> Vec<String> {
    fn leaves(prefix: &str, t: &toml::Table, out: &mut Vec<String>) {
        for (k, v) in t {
            let path = format!("{prefix}{k}");
            match v {
                toml::Value::Table(inner) if !MAP_KEYS.contains(&path.as_str()) => {
                    leaves(&format!("{path}."), inner, out)
                }
                _ => out.push(path),
            }
        }
    }
    let text = template::render(Some(Path::new("/var/lib/netsnoop")));
    let table: toml::Table = text.parse().unwrap();
    let mut keys = Vec::new();
    leaves("", &table, &mut keys);
    keys
}

/// A key nothing reads is a false promise to users (`resources.history_secs` once sized
/// nothing). Each documented key must be read outside the config modules: as a field
/// (`.key`), or through a config method that reads it (`self.key`) and is called there.
#[test]
fn every_documented_key_is_read_by_the_code_it_configures() {
    let (config, rest) = workspace_sources();
    let keys = documented_keys();
    assert!(keys.len() > 50, "{keys:?}");
    let unread: Vec<&String> = keys
        .iter()
        .filter(|path| {
            let key = path.rsplit('.').next().unwrap_or_default();
            let direct = |text: &str, what: &str| {
                text.match_indices(what).any(|(i, _)| {
                    let after = text[i + what.len()..].chars().next();
                    !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            };
            if direct(&rest, &format!(".{key}")) {
                return false;
            }
            // Accessors: `pub fn name(&self) -> … { … self.key … }` in a config module.
            let via_method = config.iter().any(|text| {
                text.split("fn ").skip(1).any(|f| {
                    let name: String = f
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let body = f.split("\n    }\n").next().unwrap_or_default();
                    f.contains("(&self")
                        && direct(body, &format!("self.{key}"))
                        && rest.contains(&format!(".{name}("))
                })
            });
            !via_method
        })
        .collect();
    assert!(
        unread.is_empty(),
        "documented keys nothing reads: {unread:?}"
    );
}

#[test]
fn an_unknown_redact_key_is_refused_with_its_name() {
    let msg = refuse("[redact]\nheader = [\"x\"]\n");
    assert!(msg.contains("key `redact.header`"), "{msg}");
}

#[test]
fn an_impossible_redact_rule_is_refused_naming_the_key() {
    let msg = refuse("[redact.short_options]\nvault = [\"pw\"]\n");
    assert!(msg.contains("redact.short_options.vault"), "{msg}");
    assert!(msg.contains("one option letter"), "{msg}");
}

#[test]
fn a_redact_rule_can_be_added_and_the_rest_keep_their_defaults() {
    let c = parse("[redact]\nenv_names = [\"PIN\"]\n", Path::new(FILE)).unwrap();
    assert_eq!(c.redact.env_names, ["PIN"]);
    let defaults = netsnoop_core::redact::RedactConfig::default();
    assert_eq!(c.redact.headers, defaults.headers);
}

#[test]
fn outputs_parse_with_their_route_and_receiver() {
    let c = parse(
        "[[outputs]]\nname = \"am\"\nmin_severity = \"high\"\nkinds = [\"cpu.*\"]\n\
         [outputs.alertmanager]\nurl = \"http://127.0.0.1:9093\"\n\n\
         [[outputs]]\nname = \"mail\"\n[outputs.email]\nhost = \"smtp.example.org\"\n\
         from = \"n@example.org\"\nto = [\"ops@example.org\"]\npassword_file = \"/etc/netsnoop/smtp\"\n",
        Path::new(FILE),
    )
    .unwrap();
    assert_eq!(c.outputs.len(), 2);
    assert_eq!(c.outputs[0].kind(), "alertmanager");
    assert_eq!(c.outputs[0].repeat_interval(), 60.0);
    assert_eq!(c.outputs[1].kind(), "email");
    assert_eq!(c.outputs[1].group_window(), 10.0);
}

#[test]
fn outputs_without_exactly_one_receiver_or_with_a_used_name_are_refused() {
    let none = refuse("[[outputs]]\nname = \"x\"\n");
    assert!(
        none.contains("outputs[0].type") && none.contains("exactly one"),
        "{none}"
    );
    let twice = refuse(
        "[[outputs]]\nname = \"x\"\n[outputs.program]\ncommand = \"cat\"\n\
         [[outputs]]\nname = \"x\"\n[outputs.program]\ncommand = \"cat\"\n",
    );
    assert!(
        twice.contains("outputs[1].name") && twice.contains("used twice"),
        "{twice}"
    );
    let unknown =
        refuse("[[outputs]]\nname = \"x\"\n[outputs.webhook]\nurl = \"http://h\"\nsecret = 1\n");
    assert!(unknown.contains("secret"), "{unknown}");
    let glob = refuse(
        "[[outputs]]\nname = \"x\"\nkinds = [\"a[\"]\n[outputs.program]\ncommand = \"cat\"\n",
    );
    assert!(glob.contains("outputs[0].kinds"), "{glob}");
}
