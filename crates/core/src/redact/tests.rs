use super::*;
use crate::{ProcSample, ProcessEvent, ResourceSample};
use proptest::prelude::*;

fn argv(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// The argv after redaction with the defaults, and how many secrets went.
fn redacted(args: &[&str]) -> (Vec<String>, u32) {
    let mut v = argv(args);
    let n = Redactor::default().redact_argv(&mut v);
    (v, n)
}

fn line(text: &str) -> (String, u32) {
    let mut s = text.to_string();
    let n = Redactor::default().redact_line(&mut s);
    (s, n)
}

#[test]
fn an_authorization_header_keeps_its_scheme_and_loses_its_credential() {
    let (v, n) = redacted(&[
        "curl",
        "-H",
        "Authorization: Bearer eyJhbGciOi.secret",
        "https://api.example/x",
    ]);
    assert_eq!(v[2], "Authorization: Bearer <redacted>");
    assert_eq!(v[3], "https://api.example/x");
    assert_eq!(n, 1);
}

#[test]
fn header_names_match_in_any_case_and_inside_a_header_option() {
    let (v, n) = redacted(&[
        "wget",
        "--header=proxy-AUTHORIZATION:Basic dXNlcjpwdw==",
        "--header=X-Api-Key:  k123",
        "-HCookie: session=abc; theme=dark",
    ]);
    assert_eq!(
        v[1..],
        [
            "--header=proxy-AUTHORIZATION:Basic <redacted>",
            "--header=X-Api-Key:  <redacted>",
            "-HCookie: <redacted>",
        ]
    );
    assert_eq!(n, 3);
}

#[test]
fn a_header_name_inside_a_longer_word_is_not_a_header() {
    let (v, n) = redacted(&["echo", "no-authorization: here", "myauthorization:x"]);
    assert_eq!(v, ["echo", "no-authorization: here", "myauthorization:x"]);
    assert_eq!(n, 0);
}

#[test]
fn a_header_name_alone_makes_the_next_argument_its_value() {
    let (v, n) = redacted(&["tool", "Authorization:", "Bearer t0k3n", "next"]);
    assert_eq!(v, ["tool", "Authorization:", "<redacted>", "next"]);
    assert_eq!(n, 1);
}

#[test]
fn a_password_option_loses_its_value_glued_or_separate() {
    let (v, n) = redacted(&[
        "app",
        "--password=hunter2",
        "--PASSWORD",
        "hunter3",
        "--token",
        "t",
        "--verbose",
    ]);
    assert_eq!(
        v,
        [
            "app",
            "--password=<redacted>",
            "--PASSWORD",
            "<redacted>",
            "--token",
            "<redacted>",
            "--verbose"
        ]
    );
    assert_eq!(n, 3);
}

#[test]
fn an_option_whose_name_contains_a_secret_word_loses_a_glued_value_only() {
    let (v, n) = redacted(&[
        "app",
        "--db-password=pw",
        "--github-token",
        "kept",
        "--user=bob",
    ]);
    assert_eq!(
        v,
        [
            "app",
            "--db-password=<redacted>",
            "--github-token",
            "kept",
            "--user=bob"
        ]
    );
    assert_eq!(n, 1);
}

#[test]
fn mysql_loses_a_glued_p_value_but_keeps_a_database_named_after_p() {
    let (v, n) = redacted(&["/usr/bin/mysql", "-uroot", "-ps3cret", "-p", "shop"]);
    assert_eq!(
        v,
        ["/usr/bin/mysql", "-uroot", "-p<redacted>", "-p", "shop"]
    );
    assert_eq!(n, 1);
}

#[test]
fn a_short_option_applies_to_its_program_even_behind_sudo() {
    let (v, n) = redacted(&["sudo", "mysqldump", "-pX", "db"]);
    assert_eq!(v, ["sudo", "mysqldump", "-p<redacted>", "db"]);
    assert_eq!(n, 1);
    let (v, _) = redacted(&["grep", "-pattern", "file"]);
    assert_eq!(
        v,
        ["grep", "-pattern", "file"],
        "-p is only secret for listed tools"
    );
}

#[test]
fn a_plus_short_option_also_takes_the_next_argument() {
    let (v, n) = redacted(&["sshpass", "-p", "pw", "ssh", "host"]);
    assert_eq!(v, ["sshpass", "-p", "<redacted>", "ssh", "host"]);
    assert_eq!(n, 1);
}

#[test]
fn a_url_loses_its_password_and_keeps_its_user_and_host() {
    let (v, n) = redacted(&[
        "git",
        "clone",
        "https://alice:pa55@git.example/repo.git",
        "redis://:only-pw@127.0.0.1:6379/0",
        "psql postgres://bob:x@db/app?sslmode=require and ftp://carol@host/",
    ]);
    assert_eq!(v[2], "https://alice:<redacted>@git.example/repo.git");
    assert_eq!(v[3], "redis://:<redacted>@127.0.0.1:6379/0");
    assert_eq!(
        v[4],
        "psql postgres://bob:<redacted>@db/app?sslmode=require and ftp://carol@host/"
    );
    assert_eq!(n, 3);
}

#[test]
fn secret_looking_names_lose_their_values() {
    let (v, n) = redacted(&[
        "env",
        "GITHUB_TOKEN=ghp_x",
        "AWS_SECRET_ACCESS_KEY=abc",
        "db_password=pw",
        "api-key=k",
        "PATH=/usr/bin",
        "EMPTY_TOKEN=",
    ]);
    assert_eq!(
        v[1..],
        [
            "GITHUB_TOKEN=<redacted>",
            "AWS_SECRET_ACCESS_KEY=<redacted>",
            "db_password=<redacted>",
            "api-key=<redacted>",
            "PATH=/usr/bin",
            "EMPTY_TOKEN=",
        ]
    );
    assert_eq!(n, 4);
}

#[test]
fn a_secret_in_a_comma_list_goes_with_the_commas_of_its_value() {
    let (v, n) = redacted(&[
        "mount",
        "-o",
        "username=a,password=p,q,r,uid=0",
        "--env=API_TOKEN=z",
    ]);
    assert_eq!(
        v[2..],
        [
            "username=a,password=<redacted>,uid=0",
            "--env=API_TOKEN=<redacted>"
        ]
    );
    assert_eq!(n, 2);
}

#[test]
fn a_joined_command_line_loses_a_header_credential_split_over_words() {
    let (s, n) = line("curl -s -H Authorization: Bearer abc.def https://h/x");
    assert_eq!(s, "curl -s -H Authorization: Bearer <redacted> https://h/x");
    assert_eq!(n, 1);
    let (s, n) = line("curl -H Cookie: a=1; b=2 -o out https://u:pw@h/");
    assert_eq!(
        s,
        "curl -H Cookie: <redacted> <redacted> -o out https://u:<redacted>@h/"
    );
    assert_eq!(n, 2);
}

#[test]
fn a_joined_command_line_loses_options_and_names_like_argv_does() {
    let (s, n) = line("mysql -uroot -pX --password Y DB_PASSWORD=Z");
    assert_eq!(
        s,
        "mysql -uroot -p<redacted> --password <redacted> DB_PASSWORD=<redacted>"
    );
    assert_eq!(n, 3);
}

#[test]
fn nothing_secret_is_left_untouched_and_not_counted() {
    let args = [
        "ls",
        "-la",
        "/etc",
        "--color=auto",
        "a:b",
        "http://host:80/p",
    ];
    let (v, n) = redacted(&args);
    assert_eq!(v, args);
    assert_eq!(n, 0);
    let (s, n) = line("python3 my_script.py --threads 8");
    assert_eq!((s.as_str(), n), ("python3 my_script.py --threads 8", 0));
}

#[test]
fn redacting_twice_changes_and_counts_nothing_more() {
    let mut v = argv(&[
        "curl",
        "-H",
        "Authorization: Bearer x",
        "https://u:p@h",
        "--password=q",
    ]);
    let r = Redactor::default();
    assert_eq!(r.redact_argv(&mut v), 3);
    let once = v.clone();
    assert_eq!(r.redact_argv(&mut v), 0);
    assert_eq!(v, once);
}

#[test]
fn disabled_redaction_keeps_argv_exactly() {
    let cfg = RedactConfig {
        enabled: false,
        ..RedactConfig::default()
    };
    let mut v = argv(&["app", "--password=x"]);
    assert_eq!(Redactor::new(&cfg).redact_argv(&mut v), 0);
    assert_eq!(v, ["app", "--password=x"]);
}

#[test]
fn configured_rules_replace_the_defaults() {
    let cfg: RedactConfig = serde_json::from_value(serde_json::json!({
        "headers": ["x-secret-header"],
        "options": ["pin"],
        "short_options": { "vault": ["k+"] },
        "env_names": ["PIN"],
        "url_credentials": false,
    }))
    .unwrap();
    cfg.validate().unwrap();
    let mut v = argv(&[
        "vault",
        "-k",
        "a",
        "--pin=1",
        "X-Secret-Header: s",
        "Authorization: Bearer kept",
        "MY_PIN=2",
        "https://u:kept@h",
        "--password=kept",
    ]);
    let n = Redactor::new(&cfg).redact_argv(&mut v);
    assert_eq!(
        v,
        [
            "vault",
            "-k",
            "<redacted>",
            "--pin=<redacted>",
            "X-Secret-Header: <redacted>",
            "Authorization: Bearer kept",
            "MY_PIN=<redacted>",
            "https://u:kept@h",
            "--password=kept",
        ]
    );
    assert_eq!(n, 4);
}

#[test]
fn an_unknown_key_is_refused_with_its_name() {
    let err = serde_json::from_value::<RedactConfig>(serde_json::json!({ "header": [] }))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `header`"), "{err}");
}

#[test]
fn impossible_rules_are_refused_naming_the_key_and_the_fix() {
    let bad = |cfg: RedactConfig| cfg.validate().unwrap_err();
    let mut c = RedactConfig::default();
    c.env_names.push(" ".into());
    assert_eq!(bad(c).key, "env_names");
    let mut c = RedactConfig::default();
    c.options.push("--pin".into());
    assert!(bad(c).problem.contains("without their dashes"));
    let mut c = RedactConfig::default();
    c.short_options.insert("tool".into(), vec!["pw".into()]);
    let e = bad(c);
    assert_eq!(e.key, "short_options.tool");
    assert!(e.problem.contains("one option letter"), "{}", e.problem);
    RedactConfig::default().validate().unwrap();
}

#[test]
fn a_process_event_carries_its_redaction_count_and_samples_are_redacted_uncounted() {
    let r = Redactor::default();
    let mut ev = Event::Process(ProcessEvent {
        argv: argv(&["curl", "-H", "Authorization: Bearer t", "https://a:b@h/"]),
        ..ProcessEvent::default()
    });
    assert_eq!(r.redact_event(&mut ev), 2);
    let Event::Process(p) = &ev else {
        unreachable!()
    };
    assert_eq!(p.redacted, 2);
    assert!(!p.argv.concat().contains("Bearer t"));
    let mut sample = Event::Resources(ResourceSample {
        processes: vec![ProcSample {
            cmdline: "curl -H Authorization: Bearer t https://h/".into(),
            ..ProcSample::default()
        }],
        ..ResourceSample::default()
    });
    assert_eq!(r.redact_event(&mut sample), 0);
    let Event::Resources(s) = &sample else {
        unreachable!()
    };
    assert_eq!(
        s.processes[0].cmdline,
        "curl -H Authorization: Bearer <redacted> https://h/"
    );
}

proptest! {
    #[test]
    fn any_arguments_redact_without_panicking_and_stay_redacted(
        args in proptest::collection::vec(".{0,40}", 0..8)
    ) {
        let r = Redactor::default();
        let mut v = args.clone();
        r.redact_argv(&mut v);
        let once = v.clone();
        r.redact_argv(&mut v);
        prop_assert_eq!(v, once);
        let mut s = args.join(" ");
        r.redact_line(&mut s);
    }
}

#[test]
fn empty_names_in_an_unvalidated_config_match_nothing() {
    let cfg = RedactConfig {
        headers: vec![String::new()],
        env_names: vec![" ".into()],
        ..RedactConfig::default()
    };
    let mut v = argv(&["app", "a: b", "X=1"]);
    assert_eq!(Redactor::new(&cfg).redact_argv(&mut v), 0);
    assert_eq!(v, ["app", "a: b", "X=1"]);
}

#[test]
fn a_url_starting_inside_the_authority_of_another_still_loses_its_password() {
    // Found by fuzzing (redact_argv): the second URL began inside what the scan had taken
    // for the first one's authority, so only a second pass redacted it.
    let (v, n) = redacted(&["x", "s://u:pw@h://u;phttps://u:pw@h://u;pw@h"]);
    assert_eq!(
        v[1],
        "s://u:<redacted>@h://u;phttps://u:<redacted>@h://u;pw@h"
    );
    assert_eq!(n, 2);
}

#[test]
fn a_secret_one_rule_exposes_is_taken_in_the_same_call() {
    // The URL password holds the first `=`; once it is gone, the glued option's name
    // reaches `SECRET` and its value goes too (found by the redact_argv fuzz target).
    let (out, n) = redacted(&["--pas://u:pu:p=@h/SECRETu:[=zKEN=z"]);
    assert_eq!(out, ["--pas://u:<redacted>@h/SECRETu:[=<redacted>"]);
    assert_eq!(n, 2);
    let r = Redactor::default();
    let mut again = out.clone();
    assert_eq!(r.redact_argv(&mut again), 0);
    assert_eq!(again, out);
}
