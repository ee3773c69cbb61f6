//! Acknowledgements and silences over HTTP: a token must be configured and sent, silences
//! are stored, listed and expire by themselves, and an ack needs a stored alert.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer};
use netsnoop_core::{Alert, AlertState, Record, Severity, Subject, Ts};
use serde_json::{Value, json};

const TOKEN: &str = "silence-token-0123456789";

async fn post(s: &TestServer, path: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let mut req = s
        .client
        .post(s.url(path))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn with_token() -> Options {
    Options {
        token: Some(TOKEN.into()),
        ..Options::default()
    }
}

#[tokio::test]
async fn without_a_configured_token_acks_and_silences_are_refused_naming_the_fix() {
    let s = TestServer::start().await;
    let body =
        json!({"matcher": {"kind": "cpu.*"}, "duration_secs": 60, "author": "ann", "comment": "x"});
    let (status, v) = post(&s, "/silences", None, body).await;
    assert_eq!(status, 401, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or_default()
            .contains("NETSNOOP_TOKEN")
            || v.to_string().contains("NETSNOOP_TOKEN"),
        "{v}"
    );
    let (status, _) = post(&s, "/alerts/x/ack", None, json!({"author": "ann"})).await;
    assert_eq!(status, 401);
    s.shutdown().await;
}

#[tokio::test]
async fn a_silence_is_stored_listed_and_refused_when_its_matcher_is_empty() {
    let s = TestServer::start_with(with_token()).await;
    let body = json!({"matcher": {"kind": "cpu.*", "host": "web-*"}, "duration_secs": 3600,
                      "author": "ann", "comment": "kernel upgrade"});
    let (status, _) = post(&s, "/silences", None, body.clone()).await;
    assert_eq!(status, 401, "the token is checked");
    let (status, v) = post(&s, "/silences", Some(TOKEN), body).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["matcher"], json!({"kind": "cpu.*", "host": "web-*"}));
    assert_eq!(v["active"], true);
    assert_eq!(v["author"], "ann");
    let list = s.get_json("/silences").await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], v["id"]);
    assert_eq!(list[0]["comment"], "kernel upgrade");
    let (status, v) = post(
        &s,
        "/silences",
        Some(TOKEN),
        json!({"matcher": {}, "duration_secs": 60, "author": "ann", "comment": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{v}");
    assert!(v.to_string().contains("the matcher is empty"), "{v}");
    s.shutdown().await;
}

#[tokio::test]
async fn expired_silences_are_listed_only_with_all() {
    let s = TestServer::start_with(with_token()).await;
    let old = netsnoop_core::silence::Silence {
        id: 0,
        matcher: netsnoop_core::silence::Matcher {
            subject: Some("10.0.0.*".into()),
            ..Default::default()
        },
        starts_at: Ts::from_secs(1_000),
        ends_at: Ts::from_secs(2_000),
        author: "bob".into(),
        comment: "old".into(),
    };
    s.store.add_silence(&old).unwrap();
    assert_eq!(s.get_json("/silences").await, json!([]));
    let all = s.get_json("/silences?all=true").await;
    assert_eq!(all[0]["active"], false, "{all}");
    assert_eq!(all[0]["author"], "bob");
    s.shutdown().await;
}

#[tokio::test]
async fn an_alert_is_acknowledged_only_when_stored() {
    let s = TestServer::start_with(with_token()).await;
    let alert = Alert {
        host: None,
        id: "cpu.system/1".into(),
        kind: "cpu.system".into(),
        severity: Severity::High,
        label: None,
        state: AlertState::Active,
        first_seen: Ts::now(),
        last_seen: Ts::now(),
        subject: Subject::host(),
        message: "hot".into(),
        details: Value::Null,
    };
    s.store.write_batch(&[Record::Alert(alert)]).unwrap();
    let (status, v) = post(
        &s,
        "/alerts/nope/ack",
        Some(TOKEN),
        json!({"author": "ann"}),
    )
    .await;
    assert_eq!(status, 404, "{v}");
    let (status, v) = post(
        &s,
        "/alerts/cpu.system%2F1/ack",
        Some(TOKEN),
        json!({"author": "ann", "comment": "looking"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["alert_id"], "cpu.system/1");
    assert_eq!(s.store.acks(10).unwrap()[0].author, "ann");
    // Shown, marked: acknowledged, then silenced once a silence covers it.
    let page = s.get_json("/alerts/history").await;
    assert_eq!(page["items"][0]["acked_by"], "ann", "{page}");
    assert!(page["items"][0].get("silenced").is_none(), "{page}");
    let (status, _) = post(
        &s,
        "/silences",
        Some(TOKEN),
        json!({"matcher": {"kind": "cpu.*"}, "duration_secs": 60, "author": "ann", "comment": "x"}),
    )
    .await;
    assert_eq!(status, 201);
    let page = s.get_json("/alerts/history").await;
    assert_eq!(page["items"][0]["silenced"], true, "{page}");
    s.shutdown().await;
}
