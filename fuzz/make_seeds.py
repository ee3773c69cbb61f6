#!/usr/bin/env python3
"""Writes the small seed corpora under fuzz/corpus/<target>/ (committed; run again only to
change them). Every seed is a valid example of its input, so fuzzing starts past the
magic numbers and length fields."""

import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(proto, payload, src=b"\x0a\x00\x00\x01", dst=b"\x0a\x00\x00\x02"):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def tcp_syn(sport=40000, dport=80):
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 0x50, 0x02, 65535, 0, 0)


def udp(sport=5353, dport=53, payload=b"hello"):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv6_udp():
    p = udp()
    return struct.pack("!IHBB16s16s", 0x60000000, len(p), 17, 64, b"\xfe\x80" + b"\0" * 13 + b"\x01",
                       b"\xfe\x80" + b"\0" * 13 + b"\x02") + p


def eth(ethertype, payload):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + struct.pack("!H", ethertype) + payload


def icmp_echo():
    return struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"


arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, b"\x02" * 6, b"\x0a\0\0\x01", b"\0" * 6, b"\x0a\0\0\x02")
frames = {
    "eth_tcp_syn": eth(0x0800, ipv4(6, tcp_syn())),
    "eth_arp": eth(0x0806, arp),
    "eth_vlan_udp": eth(0x8100, struct.pack("!HH", 5, 0x0800) + ipv4(17, udp())),
    "eth_icmp": eth(0x0800, ipv4(1, icmp_echo())),
}
# packet_parse: first byte picks the link type (index into the target's DLT list).
put("packet_parse", "eth_tcp_syn", b"\x80" + frames["eth_tcp_syn"])
put("packet_parse", "eth_arp", b"\x80" + frames["eth_arp"])
put("packet_parse", "eth_vlan_udp", b"\x80" + frames["eth_vlan_udp"])
put("packet_parse", "raw_ipv4_udp", b"\x81" + ipv4(17, udp()))
put("packet_parse", "ipv6_udp", b"\x85" + ipv6_udp())
sll = struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, 0x0800)
put("packet_parse", "sll_icmp", b"\x86" + sll + ipv4(1, icmp_echo()))
sll2 = struct.pack("!HHIHBB8s", 0x86DD, 0, 1, 772, 0, 6, b"\0" * 8)
put("packet_parse", "sll2_ipv6", b"\x87" + sll2 + ipv6_udp())
put("packet_parse", "null_ipv4", b"\x88" + struct.pack("<I", 2) + ipv4(6, tcp_syn()))
# ICMP error quoting a TCP header.
quoted = ipv4(6, tcp_syn(), src=b"\x0a\0\0\x02", dst=b"\x0a\0\0\x01")[:28]
put("packet_parse", "icmp_unreachable", b"\x80" + eth(0x0800, ipv4(1, struct.pack("!BBHI", 3, 3, 0, 0) + quoted)))


def pcap(frames, big=False, nano=False):
    e = ">" if big else "<"
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = struct.pack(e + "IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for i, f in enumerate(frames):
        out += struct.pack(e + "IIII", 1_700_000_000 + i, 1000 * i, len(f), len(f)) + f
    return out


put("pcap_reader", "two_packets_le", pcap([frames["eth_tcp_syn"], frames["eth_arp"]]))
put("pcap_reader", "nanos_be", pcap([frames["eth_vlan_udp"], frames["eth_icmp"]], big=True, nano=True))
put("pcap_reader", "header_only", pcap([]))


def block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
idb = block(1, struct.pack("<HHI", 1, 0, 65535))
idb_raw = block(1, struct.pack("<HHI", 101, 0, 65535) + struct.pack("<HHB", 9, 1, 9) + b"\0" * 3 + struct.pack("<HH", 0, 0))


def epb(iface, frame, ts=1_700_000_000_000_000):
    return block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame)) + frame)


spb = block(3, struct.pack("<I", len(frames["eth_arp"])) + frames["eth_arp"])
put("pcapng_reader", "two_ifaces", shb + idb + idb_raw + epb(0, frames["eth_tcp_syn"]) + epb(1, ipv4(17, udp())) + spb)
put("pcapng_reader", "one_packet", shb + idb + epb(0, frames["eth_icmp"]))

put("ingest_json", "one", '{"timestamp":1767225590,"src_ip":"192.168.1.10","dst_ip":"10.0.0.1","protocol":"TCP","packet_size":60}')
put("ingest_json", "batch", '[{"timestamp":"2025-12-31T23:59:50Z","src_ip":"::1","dst_ip":"127.0.0.1","protocol":"UDP","packet_size":100,"src_port":5353,"dst_port":53},'
    '{"timestamp":1767225595.5,"src_ip":"10.0.0.2","dst_ip":"10.0.0.3","protocol":"ICMP","packet_size":84}]')
put("ingest_json", "iso_offset", '{"timestamp":"2025-12-31T23:59:59+05:30","src_ip":"10.1.1.1","dst_ip":"10.1.1.2","protocol":"tcp","packet_size":1500,"flags":"SA"}')

with tempfile.TemporaryDirectory() as t:
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "target", "debug", "netsnoop")
    subprocess.run([binary, "init", "--config", f"{t}/c.toml", "--data-dir", f"{t}/d"], check=True,
                   stdout=subprocess.DEVNULL)
    put("config_load", "template", open(f"{t}/c.toml").read())
put("config_load", "small", '[server]\nlisten = "127.0.0.1:8000"\n[process.burst]\nthreshold = 8\n'
    '[redact]\nenv_names = ["PIN"]\n[redact.short_options]\nvault = ["k+"]\n')
put("config_load", "store_keep", '[store]\ndatabase = "sqlite"\n[store.keep]\npackets = "2h"\nalerts = "forever"\n')


def record(kind, flags, pid, comm, filename, args):
    r = bytearray(312)
    r[0], r[1] = kind, flags
    struct.pack_into("<H", r, 2, len(args))
    struct.pack_into("<IIIIi", r, 4, pid, pid, 1, 1000, 3 << 8)
    struct.pack_into("<QQ", r, 24, 5_000_000_000, 4_990_000_000)
    r[40:40 + len(comm)] = comm
    r[56:56 + len(filename)] = filename
    return bytes(r) + args


put("ebpf_record", "exec", record(2, 0, 4242, b"true", b"/bin/true", b"/bin/true\0--id=7\0\0x\0"))
put("ebpf_record", "exec_truncated", record(2, 5, 7, b"sh", b"/bin/sh", b"sh\0-c\0ech"))
put("ebpf_record", "fork", record(1, 0, 100, b"bash", b"", b""))
put("ebpf_record", "exit", record(3, 0, 100, b"bash", b"", b""))

put("redact_argv", "curl", "curl\0-H\0Authorization: Bearer abc\0https://u:p@h/x\0--password=q")
put("redact_argv", "mysql", "sudo\0mysql\0-uroot\0-psecret\0db\0API_TOKEN=z\0-o\0user=a,password=b,c")
put("redact_argv", "line", "curl -H Cookie: a=1; b=2 -o out https://u:pw@h/ sshpass -p x")
