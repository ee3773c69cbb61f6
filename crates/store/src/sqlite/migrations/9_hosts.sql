-- Migration 9: the hosts of a fleet. Every record row names its host by `hosts.key`;
-- key 0 is the store's own host, so the rows of a single-host database (which predate
-- this step) belong to it. An agent's key is kept only as its SHA-256 (hex), and
-- `committed_seq` is the highest batch sequence stored for it, written in the same
-- transaction as the batch, so a retried batch is recognised and not stored twice.

CREATE TABLE hosts (
    key           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    agent_version TEXT,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    key_hash      TEXT,
    revoked       INTEGER NOT NULL DEFAULT 0,
    committed_seq INTEGER NOT NULL DEFAULT 0,
    newest_record INTEGER,
    status        TEXT              -- JSON: the agent's last reported status
);

ALTER TABLE alerts ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
ALTER TABLE process_events ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
ALTER TABLE system_samples ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
ALTER TABLE process_samples ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
ALTER TABLE packets ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
ALTER TABLE flows ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
ALTER TABLE losses ADD COLUMN host INTEGER NOT NULL DEFAULT 0;
