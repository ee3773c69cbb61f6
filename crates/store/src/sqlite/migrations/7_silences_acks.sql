-- 7: silences (a matcher, a time window, who and why) and alert acknowledgements.
CREATE TABLE silences (
    id         INTEGER PRIMARY KEY,
    matcher    TEXT NOT NULL,     -- JSON {kind?, host?, subject?} (globs)
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    author     TEXT NOT NULL,
    comment    TEXT NOT NULL
);
CREATE INDEX silences_ends_at ON silences(ends_at);

CREATE TABLE alert_acks (
    alert_id   TEXT PRIMARY KEY,
    author     TEXT NOT NULL,
    comment    TEXT NOT NULL,
    at         INTEGER NOT NULL
);
