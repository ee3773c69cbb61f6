//! The one error type of the store, with messages that tell the user what to do.

use std::path::PathBuf;

/// Everything that can go wrong opening, writing or querying a store.
///
/// Each message names the fix, because these end up in front of users (CLI errors,
/// `/health`, logs).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The `--database` value could not be understood.
    #[error(
        "unrecognised database {spec:?}: give a file path, `sqlite:PATH`, or `postgres://USER@HOST/DB`"
    )]
    BadSpec {
        /// What the user passed.
        spec: String,
    },

    /// A `postgres://` URL the driver cannot parse.
    #[error(
        "cannot understand the PostgreSQL URL {url} ({reason}): write it as postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=require]"
    )]
    PgUrl {
        /// The URL, with any password removed.
        url: String,
        /// What the driver said.
        reason: String,
    },

    /// PostgreSQL could not be used: connecting, logging in, creating the schema.
    #[error("PostgreSQL {target}: {problem}")]
    PgConnect {
        /// `user@host:port/db`.
        target: String,
        /// What is wrong and how to fix it, in one line.
        problem: String,
    },

    /// TLS to PostgreSQL could not be set up.
    #[error("TLS to PostgreSQL: {problem}")]
    PgTls {
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// A PostgreSQL statement failed while reading or writing.
    #[error(
        "PostgreSQL error while {doing}: {message}. If the server is down or restarting, netsnoop retries; if the disk is full, free space or lower the retention limits"
    )]
    Postgres {
        /// What the store was doing.
        doing: &'static str,
        /// The server's or driver's message on one line.
        message: String,
        /// The driver's error.
        #[source]
        source: postgres::Error,
    },

    /// No pooled PostgreSQL connection could be had (the server is unreachable).
    #[error(
        "no PostgreSQL connection while {doing}: {message}. Check that the server runs and is reachable; netsnoop keeps retrying"
    )]
    PgUnavailable {
        /// What the store was doing.
        doing: &'static str,
        /// What the pool said.
        message: String,
    },

    /// `:memory:` cannot work with one writer plus separate reader connections.
    #[error(
        "an in-memory SQLite database cannot be shared between the writer and readers: give a file path (a temporary directory works for tests)"
    )]
    InMemoryUnsupported,

    /// The database file was written by a newer NetSnoop.
    #[error(
        "database {path} has schema version {found}, newer than this netsnoop understands ({supported}): upgrade netsnoop, or point --data-dir/--database at another file"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` found in the file.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },

    /// The file could not be opened or created.
    #[error(
        "cannot open database {path}: {source}. Check that the directory exists and is writable by this user and that its disk has free space, or choose another --data-dir"
    )]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// The directory for the database could not be created.
    #[error(
        "cannot create directory {path} for the database: {source}. Create it by hand or choose another --data-dir"
    )]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// A statement failed while reading or writing.
    #[error(
        "database error while {doing}: {source}. If the disk is full, free space or lower the retention limits; if the file is corrupt, move it aside and restart"
    )]
    Sqlite {
        /// What the store was doing, e.g. `writing a batch`.
        doing: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },

    /// A record holds a value SQLite cannot store (an integer above i64::MAX).
    #[error(
        "a record could not be stored ({reason}); it was skipped and counted as failed. The source that produced it has a bug: please report it with the record"
    )]
    Unstorable {
        /// What did not fit.
        reason: String,
    },

    /// A stored JSON column could not be parsed back.
    #[error(
        "corrupt {column} value in the database: {source}. The row was written by another program; delete it or move the database aside"
    )]
    BadJson {
        /// Table and column.
        column: &'static str,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },

    /// A stored value does not fit the data model (unknown enum label, bad IP text).
    #[error(
        "unexpected {column} value {value:?} in the database. The row was written by another program; delete it or move the database aside"
    )]
    BadValue {
        /// Table and column.
        column: &'static str,
        /// The offending text.
        value: String,
    },

    /// A batch the writer thread committed failed; its records are counted as failed.
    #[error("the store writer could not commit a batch: {message}")]
    WriteFailed {
        /// The error of the first failed batch since the last flush.
        message: String,
    },

    /// The writer thread has stopped, so nothing more can be queued or flushed.
    #[error("the store writer thread has stopped (see the log for why); restart netsnoop")]
    WriterStopped,
}

impl StoreError {
    /// Whether the error is about one record, which would fail on its own whatever the
    /// state of the database (a value SQLite cannot hold), rather than about the
    /// database or its disk (full, read-only, I/O error, locked), which fails every
    /// record until it is fixed.
    pub fn is_about_a_record(&self) -> bool {
        use rusqlite::ErrorCode as C;
        match self {
            StoreError::Unstorable { .. } | StoreError::BadJson { .. } => true,
            StoreError::Sqlite {
                source: rusqlite::Error::SqliteFailure(e, _),
                ..
            } => matches!(e.code, C::ConstraintViolation | C::TooBig | C::TypeMismatch),
            StoreError::Postgres { source, .. } => source.code().is_some_and(|c| {
                // Class 22: data exception (a NUL byte in text, a value out of range);
                // class 23: integrity constraint violation.
                let c = c.code();
                c.starts_with("22") || c.starts_with("23")
            }),
            _ => false,
        }
    }

    /// Whether the database itself went away for now (PostgreSQL restarting or
    /// unreachable), so the same write may well succeed a moment later.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::PgUnavailable { .. } => true,
            StoreError::Postgres { source, .. } => {
                source.is_closed()
                    || source.code().is_some_and(|c| {
                        // 08: connection exception; 57P01-03: the server is shutting
                        // down or starting; 53300: too many connections.
                        let c = c.code();
                        c.starts_with("08") || c.starts_with("57P") || c == "53300"
                    })
                    || (source.code().is_none()
                        && std::error::Error::source(source)
                            .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some()))
            }
            _ => false,
        }
    }

    /// Wraps a PostgreSQL error with what the store was doing.
    pub(crate) fn pg(doing: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
        move |source| StoreError::Postgres {
            doing,
            message: crate::postgres::one_line(&source),
            source,
        }
    }

    /// Wraps a rusqlite error with what the store was doing.
    pub(crate) fn sql(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
        move |source| StoreError::Sqlite { doing, source }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
