//! Token rules on a real server: with a token, POST needs it; beyond loopback every data
//! endpoint needs it (header or `?token=`); static pages stay loadable.

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Options, TestServer, packet};

fn with_token(policy_listen: &str) -> Options {
    Options {
        token: Some("s3cret-token".into()),
        policy_listen: policy_listen.parse().unwrap(),
        ..Options::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_loopback_a_post_needs_the_token_but_reads_do_not() {
    let s = TestServer::start_with(with_token("127.0.0.1:8000")).await;
    let body = packet(
        jiff::Timestamp::now().as_second() as f64,
        "10.0.0.1",
        "10.0.0.2",
        "TCP",
        60,
    )
    .to_string();

    let (status, err) = s.post(&body).await;
    assert_eq!(status, 401, "{err}");
    assert_eq!(err["error"], "unauthorized");
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer")
    );

    let wrong = s
        .client
        .post(s.url("/packets"))
        .header("content-type", "application/json")
        .bearer_auth("guess")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.headers()["www-authenticate"], "Bearer");

    let in_query = s
        .client
        .post(s.url("/packets?token=s3cret-token"))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(in_query.status(), 401, "a query token is for reads only");

    let right = s
        .client
        .post(s.url("/packets"))
        .header("content-type", "application/json")
        .bearer_auth("s3cret-token")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);

    assert_eq!(
        s.client
            .get(s.url("/stats/summary"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_loopback_every_data_endpoint_needs_the_token() {
    // The socket is still 127.0.0.1; only the policy believes it listens on all addresses.
    let s = TestServer::start_with(with_token("0.0.0.0:8000")).await;
    for path in [
        "/stats/summary",
        "/alerts",
        "/health",
        "/metrics",
        "/system",
        "/stream",
    ] {
        let resp = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path} without a token");
    }
    let ok = s
        .client
        .get(s.url("/stats/summary"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let ok = s
        .client
        .get(s.url("/health?token=s3cret-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "EventSource-style query token");
    // Pages without data load, so the browser can then call the API with the token.
    for path in ["/", "/docs", "/openapi.json", "/docs/swagger-ui.css"] {
        let resp = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path} is static");
    }
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_a_non_loopback_address_refuses_to_start() {
    let config = netsnoop_server::ServerConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..netsnoop_server::ServerConfig::default()
    };
    let err = netsnoop_server::bind(&config).await.unwrap_err();
    assert!(
        matches!(
            err,
            netsnoop_server::StartError::NonLoopbackWithoutToken { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("NETSNOOP_TOKEN"));
}
