-- Migration 6: running totals per source and destination host, and the number of hosts,
-- so NetWatch's all-time summary and top talkers read a few rows instead of every host
-- row of every hour. The totals are the sums of the hour tier (which covers every second
-- still held), kept equal to them by triggers: added as hour rows are written, taken
-- away as retention deletes them. And a flag for packets POSTed without ports (their
-- ports are unknown, not 0).

ALTER TABLE packets ADD COLUMN no_ports INTEGER NOT NULL DEFAULT 0;

CREATE TABLE traffic_src_total (
    ip      TEXT PRIMARY KEY,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
) WITHOUT ROWID;
-- NetWatch's order (packets) walks this index. Every hour-row write moves an entry in
-- it, so there is no second one for the order by bytes: that one scans the totals.
CREATE INDEX traffic_src_total_packets ON traffic_src_total(packets DESC, bytes DESC, ip);
CREATE TABLE traffic_dst_total (
    ip      TEXT PRIMARY KEY,
    packets INTEGER NOT NULL,
    bytes   INTEGER NOT NULL
) WITHOUT ROWID;
-- family: 'src' or 'dst'; hosts: rows of traffic_{family}_total.
CREATE TABLE traffic_host_counts (
    family TEXT PRIMARY KEY,
    hosts  INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO traffic_src_total SELECT ip, sum(packets), sum(bytes) FROM traffic_src_1h GROUP BY ip;
INSERT INTO traffic_dst_total SELECT ip, sum(packets), sum(bytes) FROM traffic_dst_1h GROUP BY ip;
INSERT INTO traffic_host_counts VALUES
    ('src', (SELECT count(*) FROM traffic_src_total)),
    ('dst', (SELECT count(*) FROM traffic_dst_total));

CREATE TRIGGER traffic_src_total_counted AFTER INSERT ON traffic_src_total BEGIN
    UPDATE traffic_host_counts SET hosts = hosts + 1 WHERE family = 'src';
END;
CREATE TRIGGER traffic_src_total_uncounted AFTER DELETE ON traffic_src_total BEGIN
    UPDATE traffic_host_counts SET hosts = hosts - 1 WHERE family = 'src';
END;
CREATE TRIGGER traffic_dst_total_counted AFTER INSERT ON traffic_dst_total BEGIN
    UPDATE traffic_host_counts SET hosts = hosts + 1 WHERE family = 'dst';
END;
CREATE TRIGGER traffic_dst_total_uncounted AFTER DELETE ON traffic_dst_total BEGIN
    UPDATE traffic_host_counts SET hosts = hosts - 1 WHERE family = 'dst';
END;

CREATE TRIGGER traffic_src_1h_added AFTER INSERT ON traffic_src_1h BEGIN
    INSERT INTO traffic_src_total (ip, packets, bytes) VALUES (NEW.ip, NEW.packets, NEW.bytes)
    ON CONFLICT (ip) DO UPDATE SET
        packets = packets + excluded.packets, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER traffic_src_1h_grown AFTER UPDATE ON traffic_src_1h BEGIN
    UPDATE traffic_src_total
    SET packets = packets + NEW.packets - OLD.packets, bytes = bytes + NEW.bytes - OLD.bytes
    WHERE ip = NEW.ip;
END;
CREATE TRIGGER traffic_src_1h_removed AFTER DELETE ON traffic_src_1h BEGIN
    UPDATE traffic_src_total
    SET packets = packets - OLD.packets, bytes = bytes - OLD.bytes WHERE ip = OLD.ip;
    DELETE FROM traffic_src_total WHERE ip = OLD.ip AND packets <= 0;
END;
CREATE TRIGGER traffic_dst_1h_added AFTER INSERT ON traffic_dst_1h BEGIN
    INSERT INTO traffic_dst_total (ip, packets, bytes) VALUES (NEW.ip, NEW.packets, NEW.bytes)
    ON CONFLICT (ip) DO UPDATE SET
        packets = packets + excluded.packets, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER traffic_dst_1h_grown AFTER UPDATE ON traffic_dst_1h BEGIN
    UPDATE traffic_dst_total
    SET packets = packets + NEW.packets - OLD.packets, bytes = bytes + NEW.bytes - OLD.bytes
    WHERE ip = NEW.ip;
END;
CREATE TRIGGER traffic_dst_1h_removed AFTER DELETE ON traffic_dst_1h BEGIN
    UPDATE traffic_dst_total
    SET packets = packets - OLD.packets, bytes = bytes - OLD.bytes WHERE ip = OLD.ip;
    DELETE FROM traffic_dst_total WHERE ip = OLD.ip AND packets <= 0;
END;
