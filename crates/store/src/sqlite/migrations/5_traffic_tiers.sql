-- Migration 5: the four traffic rollups again per 10 seconds (`_10s`), minute (`_1m`),
-- 10 minutes (`_10m`) and hour (`_1h`), so a range reads whole hours, then whole
-- 10-minute, minute and 10-second buckets, and only its ragged seconds per second.
-- `second` is the bucket's first Unix second; `unique_src`/`unique_dst` hold the largest
-- per-second count in the bucket. Existing seconds are backfilled, each tier from the
-- next finer one, so queries never have to know which history predates the tiers.

CREATE TABLE traffic_seconds_10s (
    second            INTEGER PRIMARY KEY,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL
);
CREATE TABLE traffic_protocol_10s (
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (second, protocol)
) WITHOUT ROWID;
CREATE TABLE traffic_src_10s (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_dst_10s (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_seconds_1m (
    second            INTEGER PRIMARY KEY,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL
);
CREATE TABLE traffic_protocol_1m (
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (second, protocol)
) WITHOUT ROWID;
CREATE TABLE traffic_src_1m (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_dst_1m (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_seconds_10m (
    second            INTEGER PRIMARY KEY,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL
);
CREATE TABLE traffic_protocol_10m (
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (second, protocol)
) WITHOUT ROWID;
CREATE TABLE traffic_src_10m (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_dst_10m (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_seconds_1h (
    second            INTEGER PRIMARY KEY,
    packets           INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    unique_src        INTEGER NOT NULL,
    unique_dst        INTEGER NOT NULL,
    src_other_packets INTEGER NOT NULL,
    src_other_bytes   INTEGER NOT NULL,
    dst_other_packets INTEGER NOT NULL,
    dst_other_bytes   INTEGER NOT NULL
);
CREATE TABLE traffic_protocol_1h (
    second   INTEGER NOT NULL,
    protocol TEXT NOT NULL,
    packets  INTEGER NOT NULL,
    bytes    INTEGER NOT NULL,
    PRIMARY KEY (second, protocol)
) WITHOUT ROWID;
CREATE TABLE traffic_src_1h (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;
CREATE TABLE traffic_dst_1h (
    second  INTEGER NOT NULL,
    ip      TEXT NOT NULL,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL,
    PRIMARY KEY (second, ip)
) WITHOUT ROWID;

-- Backfill (floor division that stays right before 1970).
INSERT INTO traffic_seconds_10s
    SELECT second - (((second % 10) + 10) % 10) AS b, sum(packets), sum(bytes), max(unique_src), max(unique_dst),
           sum(src_other_packets), sum(src_other_bytes), sum(dst_other_packets),
           sum(dst_other_bytes)
    FROM traffic_seconds GROUP BY b;
INSERT INTO traffic_protocol_10s
    SELECT second - (((second % 10) + 10) % 10) AS b, protocol, sum(packets), sum(bytes)
    FROM traffic_protocol GROUP BY b, protocol;
INSERT INTO traffic_src_10s
    SELECT second - (((second % 10) + 10) % 10) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_src GROUP BY b, ip;
INSERT INTO traffic_dst_10s
    SELECT second - (((second % 10) + 10) % 10) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_dst GROUP BY b, ip;
INSERT INTO traffic_seconds_1m
    SELECT second - (((second % 60) + 60) % 60) AS b, sum(packets), sum(bytes), max(unique_src), max(unique_dst),
           sum(src_other_packets), sum(src_other_bytes), sum(dst_other_packets),
           sum(dst_other_bytes)
    FROM traffic_seconds_10s GROUP BY b;
INSERT INTO traffic_protocol_1m
    SELECT second - (((second % 60) + 60) % 60) AS b, protocol, sum(packets), sum(bytes)
    FROM traffic_protocol_10s GROUP BY b, protocol;
INSERT INTO traffic_src_1m
    SELECT second - (((second % 60) + 60) % 60) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_src_10s GROUP BY b, ip;
INSERT INTO traffic_dst_1m
    SELECT second - (((second % 60) + 60) % 60) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_dst_10s GROUP BY b, ip;
INSERT INTO traffic_seconds_10m
    SELECT second - (((second % 600) + 600) % 600) AS b, sum(packets), sum(bytes), max(unique_src), max(unique_dst),
           sum(src_other_packets), sum(src_other_bytes), sum(dst_other_packets),
           sum(dst_other_bytes)
    FROM traffic_seconds_1m GROUP BY b;
INSERT INTO traffic_protocol_10m
    SELECT second - (((second % 600) + 600) % 600) AS b, protocol, sum(packets), sum(bytes)
    FROM traffic_protocol_1m GROUP BY b, protocol;
INSERT INTO traffic_src_10m
    SELECT second - (((second % 600) + 600) % 600) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_src_1m GROUP BY b, ip;
INSERT INTO traffic_dst_10m
    SELECT second - (((second % 600) + 600) % 600) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_dst_1m GROUP BY b, ip;
INSERT INTO traffic_seconds_1h
    SELECT second - (((second % 3600) + 3600) % 3600) AS b, sum(packets), sum(bytes), max(unique_src), max(unique_dst),
           sum(src_other_packets), sum(src_other_bytes), sum(dst_other_packets),
           sum(dst_other_bytes)
    FROM traffic_seconds_10m GROUP BY b;
INSERT INTO traffic_protocol_1h
    SELECT second - (((second % 3600) + 3600) % 3600) AS b, protocol, sum(packets), sum(bytes)
    FROM traffic_protocol_10m GROUP BY b, protocol;
INSERT INTO traffic_src_1h
    SELECT second - (((second % 3600) + 3600) % 3600) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_src_10m GROUP BY b, ip;
INSERT INTO traffic_dst_1h
    SELECT second - (((second % 3600) + 3600) % 3600) AS b, ip, sum(packets), sum(bytes)
    FROM traffic_dst_10m GROUP BY b, ip;
