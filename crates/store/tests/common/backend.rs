//! The conformance harness: every case runs against SQLite and PostgreSQL, the same
//! records in, the same answers out. PostgreSQL is a throwaway cluster per test binary
//! (netsnoop-test-support's `pg`), with a fresh database per test.

use netsnoop_store::{OpenOptions, PgStore, RetentionConfig, SqliteStore, Store};
use std::ops::Deref;
use tempfile::TempDir;

/// Which backend a case runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store for one test, with whatever keeps it alive (SQLite's temp dir).
pub struct TestStore {
    pub store: std::sync::Arc<dyn Store>,
    /// The `--database` value it was opened with.
    pub spec: String,
    _dir: Option<TempDir>,
}

impl Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

impl TestStore {
    /// Opens the same database again (a restart of netsnoop).
    pub fn reopen(&self, opts: OpenOptions) -> std::sync::Arc<dyn Store> {
        netsnoop_store::open(&self.spec, opts).expect("reopening the store")
    }
}

impl Backend {
    /// A fresh, empty store with these options.
    pub fn store_with(self, opts: OpenOptions) -> TestStore {
        match self {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("netsnoop.db");
                let store = SqliteStore::open(&path, opts).expect("open SQLite store");
                TestStore {
                    store: std::sync::Arc::new(store),
                    spec: format!("sqlite:{}", path.display()),
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let url = netsnoop_test_support::pg::cluster().fresh_database();
                let store = PgStore::open(&url, opts).expect("open PostgreSQL store");
                TestStore {
                    store: std::sync::Arc::new(store),
                    spec: url,
                    _dir: None,
                }
            }
        }
    }

    /// A fresh store that keeps everything.
    pub fn store(self) -> TestStore {
        self.store_with(OpenOptions {
            retention: RetentionConfig::keep_everything(),
            ..OpenOptions::default()
        })
    }
}

/// Declares each case twice, as `case::on_sqlite` and `case::on_postgres`.
#[macro_export]
macro_rules! conformance {
    ($( $(#[$meta:meta])* fn $name:ident($b:ident) $body:block )*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                $(#[$meta])*
                fn case($b: $crate::common::Backend) $body
                #[test]
                fn on_sqlite() {
                    case($crate::common::Backend::Sqlite)
                }
                #[test]
                fn on_postgres() {
                    case($crate::common::Backend::Postgres)
                }
            }
        )*
    };
}
