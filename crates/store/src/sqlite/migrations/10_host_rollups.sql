-- Migration 10: traffic rollups per host. Every rollup table of every tier, and the
-- all-time totals and their address counts, gain `host` (a `hosts.key`) leading their
-- primary key, so one host's statistics read only its rows and Citus can distribute
-- them by host. SQLite cannot change a primary key, so each table is rebuilt; the rows
-- it held were summed over the whole store and belong to the local host (key 0), as the
-- rows of every other table predating migration 9 do. `traffic_seconds` also gets an
-- index on `second` alone: retention over the size limit looks up the oldest buckets
-- of all hosts there. The triggers that keep the totals move to the new tables.

CREATE TABLE traffic_seconds_v10 (
    host              INTEGER NOT NULL,
    second            INTEGER NOT NULL,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second)
) WITHOUT ROWID;
INSERT INTO traffic_seconds_v10
    SELECT 0, second, packets, bytes, unique_src, unique_dst, src_other_packets,
           src_other_bytes, dst_other_packets, dst_other_bytes
    FROM traffic_seconds;
DROP TABLE traffic_seconds;
ALTER TABLE traffic_seconds_v10 RENAME TO traffic_seconds;
CREATE INDEX traffic_seconds_second ON traffic_seconds(second);

CREATE TABLE traffic_protocol_v10 (
    host     INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (host, second, protocol)
) WITHOUT ROWID;
INSERT INTO traffic_protocol_v10
    SELECT 0, second, protocol, packets, bytes FROM traffic_protocol;
DROP TABLE traffic_protocol;
ALTER TABLE traffic_protocol_v10 RENAME TO traffic_protocol;

CREATE TABLE traffic_src_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_src_v10 SELECT 0, second, ip, packets, bytes FROM traffic_src;
DROP TABLE traffic_src;
ALTER TABLE traffic_src_v10 RENAME TO traffic_src;

CREATE TABLE traffic_dst_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_dst_v10 SELECT 0, second, ip, packets, bytes FROM traffic_dst;
DROP TABLE traffic_dst;
ALTER TABLE traffic_dst_v10 RENAME TO traffic_dst;

CREATE TABLE traffic_seconds_10s_v10 (
    host              INTEGER NOT NULL,
    second            INTEGER NOT NULL,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second)
) WITHOUT ROWID;
INSERT INTO traffic_seconds_10s_v10
    SELECT 0, second, packets, bytes, unique_src, unique_dst, src_other_packets,
           src_other_bytes, dst_other_packets, dst_other_bytes
    FROM traffic_seconds_10s;
DROP TABLE traffic_seconds_10s;
ALTER TABLE traffic_seconds_10s_v10 RENAME TO traffic_seconds_10s;
CREATE INDEX traffic_seconds_10s_second ON traffic_seconds_10s(second);

CREATE TABLE traffic_protocol_10s_v10 (
    host     INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (host, second, protocol)
) WITHOUT ROWID;
INSERT INTO traffic_protocol_10s_v10
    SELECT 0, second, protocol, packets, bytes FROM traffic_protocol_10s;
DROP TABLE traffic_protocol_10s;
ALTER TABLE traffic_protocol_10s_v10 RENAME TO traffic_protocol_10s;

CREATE TABLE traffic_src_10s_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_src_10s_v10 SELECT 0, second, ip, packets, bytes FROM traffic_src_10s;
DROP TABLE traffic_src_10s;
ALTER TABLE traffic_src_10s_v10 RENAME TO traffic_src_10s;

CREATE TABLE traffic_dst_10s_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_dst_10s_v10 SELECT 0, second, ip, packets, bytes FROM traffic_dst_10s;
DROP TABLE traffic_dst_10s;
ALTER TABLE traffic_dst_10s_v10 RENAME TO traffic_dst_10s;

CREATE TABLE traffic_seconds_1m_v10 (
    host              INTEGER NOT NULL,
    second            INTEGER NOT NULL,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second)
) WITHOUT ROWID;
INSERT INTO traffic_seconds_1m_v10
    SELECT 0, second, packets, bytes, unique_src, unique_dst, src_other_packets,
           src_other_bytes, dst_other_packets, dst_other_bytes
    FROM traffic_seconds_1m;
DROP TABLE traffic_seconds_1m;
ALTER TABLE traffic_seconds_1m_v10 RENAME TO traffic_seconds_1m;
CREATE INDEX traffic_seconds_1m_second ON traffic_seconds_1m(second);

CREATE TABLE traffic_protocol_1m_v10 (
    host     INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (host, second, protocol)
) WITHOUT ROWID;
INSERT INTO traffic_protocol_1m_v10
    SELECT 0, second, protocol, packets, bytes FROM traffic_protocol_1m;
DROP TABLE traffic_protocol_1m;
ALTER TABLE traffic_protocol_1m_v10 RENAME TO traffic_protocol_1m;

CREATE TABLE traffic_src_1m_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_src_1m_v10 SELECT 0, second, ip, packets, bytes FROM traffic_src_1m;
DROP TABLE traffic_src_1m;
ALTER TABLE traffic_src_1m_v10 RENAME TO traffic_src_1m;

CREATE TABLE traffic_dst_1m_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_dst_1m_v10 SELECT 0, second, ip, packets, bytes FROM traffic_dst_1m;
DROP TABLE traffic_dst_1m;
ALTER TABLE traffic_dst_1m_v10 RENAME TO traffic_dst_1m;

CREATE TABLE traffic_seconds_10m_v10 (
    host              INTEGER NOT NULL,
    second            INTEGER NOT NULL,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second)
) WITHOUT ROWID;
INSERT INTO traffic_seconds_10m_v10
    SELECT 0, second, packets, bytes, unique_src, unique_dst, src_other_packets,
           src_other_bytes, dst_other_packets, dst_other_bytes
    FROM traffic_seconds_10m;
DROP TABLE traffic_seconds_10m;
ALTER TABLE traffic_seconds_10m_v10 RENAME TO traffic_seconds_10m;
CREATE INDEX traffic_seconds_10m_second ON traffic_seconds_10m(second);

CREATE TABLE traffic_protocol_10m_v10 (
    host     INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (host, second, protocol)
) WITHOUT ROWID;
INSERT INTO traffic_protocol_10m_v10
    SELECT 0, second, protocol, packets, bytes FROM traffic_protocol_10m;
DROP TABLE traffic_protocol_10m;
ALTER TABLE traffic_protocol_10m_v10 RENAME TO traffic_protocol_10m;

CREATE TABLE traffic_src_10m_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_src_10m_v10 SELECT 0, second, ip, packets, bytes FROM traffic_src_10m;
DROP TABLE traffic_src_10m;
ALTER TABLE traffic_src_10m_v10 RENAME TO traffic_src_10m;

CREATE TABLE traffic_dst_10m_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_dst_10m_v10 SELECT 0, second, ip, packets, bytes FROM traffic_dst_10m;
DROP TABLE traffic_dst_10m;
ALTER TABLE traffic_dst_10m_v10 RENAME TO traffic_dst_10m;

CREATE TABLE traffic_seconds_1h_v10 (
    host              INTEGER NOT NULL,
    second            INTEGER NOT NULL,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second)
) WITHOUT ROWID;
INSERT INTO traffic_seconds_1h_v10
    SELECT 0, second, packets, bytes, unique_src, unique_dst, src_other_packets,
           src_other_bytes, dst_other_packets, dst_other_bytes
    FROM traffic_seconds_1h;
DROP TABLE traffic_seconds_1h;
ALTER TABLE traffic_seconds_1h_v10 RENAME TO traffic_seconds_1h;
CREATE INDEX traffic_seconds_1h_second ON traffic_seconds_1h(second);

CREATE TABLE traffic_protocol_1h_v10 (
    host     INTEGER NOT NULL,
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (host, second, protocol)
) WITHOUT ROWID;
INSERT INTO traffic_protocol_1h_v10
    SELECT 0, second, protocol, packets, bytes FROM traffic_protocol_1h;
DROP TABLE traffic_protocol_1h;
ALTER TABLE traffic_protocol_1h_v10 RENAME TO traffic_protocol_1h;

CREATE TABLE traffic_src_1h_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_src_1h_v10 SELECT 0, second, ip, packets, bytes FROM traffic_src_1h;
DROP TABLE traffic_src_1h;
ALTER TABLE traffic_src_1h_v10 RENAME TO traffic_src_1h;

CREATE TABLE traffic_dst_1h_v10 (
    host    INTEGER NOT NULL,
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, second, ip)
) WITHOUT ROWID;
INSERT INTO traffic_dst_1h_v10 SELECT 0, second, ip, packets, bytes FROM traffic_dst_1h;
DROP TABLE traffic_dst_1h;
ALTER TABLE traffic_dst_1h_v10 RENAME TO traffic_dst_1h;

-- The totals: per host and address. `traffic_host_counts` counts each host's addresses
-- (rows of its totals), so one host's all-time distinct count is one row.

CREATE TABLE traffic_src_total_v10 (
    host    INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, ip)
) WITHOUT ROWID;
INSERT INTO traffic_src_total_v10 SELECT 0, ip, packets, bytes FROM traffic_src_total;
DROP TABLE traffic_src_total;
ALTER TABLE traffic_src_total_v10 RENAME TO traffic_src_total;

CREATE TABLE traffic_dst_total_v10 (
    host    INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (host, ip)
) WITHOUT ROWID;
INSERT INTO traffic_dst_total_v10 SELECT 0, ip, packets, bytes FROM traffic_dst_total;
DROP TABLE traffic_dst_total;
ALTER TABLE traffic_dst_total_v10 RENAME TO traffic_dst_total;
-- One host's top talkers by packets walk this index.
CREATE INDEX traffic_src_total_packets ON traffic_src_total(host, packets DESC, bytes DESC, ip);

CREATE TABLE traffic_host_counts_v10 (
    host   INTEGER NOT NULL,
    family TEXT NOT NULL,
    hosts  INTEGER NOT NULL,
    PRIMARY KEY (host, family)
) WITHOUT ROWID;
INSERT INTO traffic_host_counts_v10 SELECT 0, family, hosts FROM traffic_host_counts;
DROP TABLE traffic_host_counts;
ALTER TABLE traffic_host_counts_v10 RENAME TO traffic_host_counts;

CREATE TRIGGER traffic_src_total_counted AFTER INSERT ON traffic_src_total BEGIN
    INSERT INTO traffic_host_counts (host, family, hosts) VALUES (NEW.host, 'src', 1)
    ON CONFLICT (host, family) DO UPDATE SET hosts = hosts + 1;
END;
CREATE TRIGGER traffic_src_total_uncounted AFTER DELETE ON traffic_src_total BEGIN
    UPDATE traffic_host_counts SET hosts = hosts - 1 WHERE host = OLD.host AND family = 'src';
END;
CREATE TRIGGER traffic_src_1h_added AFTER INSERT ON traffic_src_1h BEGIN
    INSERT INTO traffic_src_total (host, ip, packets, bytes)
    VALUES (NEW.host, NEW.ip, NEW.packets, NEW.bytes)
    ON CONFLICT (host, ip) DO UPDATE SET
        packets = packets + excluded.packets, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER traffic_src_1h_grown AFTER UPDATE ON traffic_src_1h BEGIN
    UPDATE traffic_src_total
    SET packets = packets + NEW.packets - OLD.packets, bytes = bytes + NEW.bytes - OLD.bytes
    WHERE host = NEW.host AND ip = NEW.ip;
END;
CREATE TRIGGER traffic_src_1h_removed AFTER DELETE ON traffic_src_1h BEGIN
    UPDATE traffic_src_total
    SET packets = packets - OLD.packets, bytes = bytes - OLD.bytes
    WHERE host = OLD.host AND ip = OLD.ip;
    DELETE FROM traffic_src_total WHERE host = OLD.host AND ip = OLD.ip AND packets <= 0;
END;

CREATE TRIGGER traffic_dst_total_counted AFTER INSERT ON traffic_dst_total BEGIN
    INSERT INTO traffic_host_counts (host, family, hosts) VALUES (NEW.host, 'dst', 1)
    ON CONFLICT (host, family) DO UPDATE SET hosts = hosts + 1;
END;
CREATE TRIGGER traffic_dst_total_uncounted AFTER DELETE ON traffic_dst_total BEGIN
    UPDATE traffic_host_counts SET hosts = hosts - 1 WHERE host = OLD.host AND family = 'dst';
END;
CREATE TRIGGER traffic_dst_1h_added AFTER INSERT ON traffic_dst_1h BEGIN
    INSERT INTO traffic_dst_total (host, ip, packets, bytes)
    VALUES (NEW.host, NEW.ip, NEW.packets, NEW.bytes)
    ON CONFLICT (host, ip) DO UPDATE SET
        packets = packets + excluded.packets, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER traffic_dst_1h_grown AFTER UPDATE ON traffic_dst_1h BEGIN
    UPDATE traffic_dst_total
    SET packets = packets + NEW.packets - OLD.packets, bytes = bytes + NEW.bytes - OLD.bytes
    WHERE host = NEW.host AND ip = NEW.ip;
END;
CREATE TRIGGER traffic_dst_1h_removed AFTER DELETE ON traffic_dst_1h BEGIN
    UPDATE traffic_dst_total
    SET packets = packets - OLD.packets, bytes = bytes - OLD.bytes
    WHERE host = OLD.host AND ip = OLD.ip;
    DELETE FROM traffic_dst_total WHERE host = OLD.host AND ip = OLD.ip AND packets <= 0;
END;
