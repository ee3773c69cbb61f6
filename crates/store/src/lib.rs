//! netsnoop-store: persistence behind one `Store` trait, SQLite by default.
