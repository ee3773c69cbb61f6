//! TLS to PostgreSQL with rustls: `sslmode=require` encrypts, `verify-full` refuses a
//! certificate no trusted CA signed, in one line naming the fix. Its own test binary:
//! it starts a cluster with TLS on (a certificate from a private CA made by openssl).

// Tests may unwrap: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use netsnoop_store::{OpenOptions, PgStore, RetentionConfig, Store};
use netsnoop_test_support::pg::{self, PgCluster};

#[test]
fn sslmode_require_encrypts_and_verify_full_refuses_an_untrusted_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = netsnoop_test_support::pki::private_ca(dir.path(), "localhost");
    let (cert, key) = (pki.cert, pki.key);
    pg::give_to_server_user(&[dir.path(), &cert, &key]);
    let cluster = PgCluster::start(&[
        "ssl=on",
        &format!("ssl_cert_file={}", cert.display()),
        &format!("ssl_key_file={}", key.display()),
    ]);
    let url = cluster.fresh_database();

    let store = PgStore::open(
        &format!("{url}?sslmode=require"),
        OpenOptions {
            retention: RetentionConfig::keep_everything(),
            ..OpenOptions::default()
        },
    )
    .unwrap();
    let packets = random_packets(1, 1_700_000_000, 10, 100);
    store.write_batch(&packet_records(&packets)).unwrap();
    assert_eq!(
        store
            .recent_packets(1000, &Default::default())
            .unwrap()
            .len(),
        100
    );
    let encrypted: i64 = cluster
        .admin()
        .query_one(
            "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
             WHERE s.ssl AND a.application_name = 'netsnoop'",
            &[],
        )
        .unwrap()
        .get(0);
    assert!(encrypted > 0, "the store's connections use TLS");

    let err = PgStore::open(
        &format!("{url}?sslmode=verify-full"),
        OpenOptions::default(),
    )
    .err()
    .expect("a self-signed certificate must not verify");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(
        msg.contains("TLS failed") && msg.contains("verify-full"),
        "{msg}"
    );
}
