// SPDX-License-Identifier: MIT OR GPL-2.0
// NetSnoop socket attribution: records which process connects, accepts, sends UDP or
// listens, and when TCP sockets close, into a ring buffer. Built by crates/linux/build.rs.
//
// Attaches through fentry/fexit and a BTF tracepoint, so no tracefs is needed. Kernel types
// are declared by hand, only the fields read here; CO-RE relocations match them to the
// running kernel's BTF (the fields of anonymous unions are found by name).

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct ns_common {
	unsigned int inum;
};
struct net {
	struct ns_common ns;
};
typedef struct {
	struct net *net;
} possible_net_t;
struct in6_addr {
	__u8 s6_addr[16];
};
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};
struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
};
struct sockaddr_in {
	unsigned short sin_family;
	__be16 sin_port;
	__be32 sin_addr;
};
struct sockaddr_in6 {
	unsigned short sin6_family;
	__be16 sin6_port;
	__u32 sin6_flowinfo;
	struct in6_addr sin6_addr;
};
struct msghdr {
	void *msg_name;
	int msg_namelen;
};
struct task_struct {
	struct task_struct *group_leader;
	char comm[16];
};
#pragma clang attribute pop

// Keep in step with crates/linux/src/sock/wire.rs.
#define KIND_CONNECT 1
#define KIND_ACCEPT 2
#define KIND_UDP_SEND 3
#define KIND_LISTEN 4
#define KIND_CLOSE 5

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define TCP_CLOSE 7
#define TCP_LISTEN 10

struct sock_event {
	__u8 kind;
	__u8 family;
	__u8 protocol;
	__u8 state;
	__u32 pid;
	__u32 uid;
	__u32 netns;
	__u64 time_ns;
	__u64 cgroup_id;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u32 pad;
	char comm[16];
};
_Static_assert(sizeof(struct sock_event) == 88, "the record layout is parsed by wire.rs");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	// Resized by the loader (config `ring_buffer_bytes`).
	__uint(max_entries, 1 << 22);
} SOCK_EVENTS SEC(".maps");

// Records that did not fit into SOCK_EVENTS, per CPU.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} SOCK_LOST SEC(".maps");

// A UDP socket sending to one destination is reported once per UDP_REPEAT_NS, not per
// datagram. LRU: the oldest pairs make room, so the map never fills.
struct udp_key {
	__u64 sk;
	__u8 daddr[16];
	__u16 dport;
	__u16 pad1;
	__u32 pad2;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct udp_key);
	__type(value, __u64);
} UDP_SEEN SEC(".maps");
#define UDP_REPEAT_NS (5ULL * 1000 * 1000 * 1000)

static __always_inline void fill_task(struct sock_event *e)
{
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->cgroup_id = bpf_get_current_cgroup_id();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&e->comm, task, group_leader, comm);
}

// Addresses and ports of `sk` as the socket holds them; false for families other than IP.
static __always_inline int fill_sock(struct sock_event *e, struct sock *sk)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_boot_ns();
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->protocol = BPF_CORE_READ(sk, sk_protocol);
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET) {
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->saddr, &s, 4);
		__builtin_memcpy(e->daddr, &d, 4);
		return 1;
	}
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.s6_addr);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.s6_addr);
		return 1;
	}
	return 0;
}

static __always_inline void submit(struct sock_event *e)
{
	if (bpf_ringbuf_output(&SOCK_EVENTS, e, sizeof(*e), 0) != 0) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&SOCK_LOST, &zero);
		if (lost)
			__sync_fetch_and_add(lost, 1);
	}
}

// Called by the connecting process once the source port is chosen and the SYN is next.
SEC("fentry/tcp_connect")
int BPF_PROG(netsnoop_connect, struct sock *sk)
{
	struct sock_event e;
	if (!fill_sock(&e, sk))
		return 0;
	e.kind = KIND_CONNECT;
	fill_task(&e);
	submit(&e);
	return 0;
}

// On return, so the socket seen is the accepted one (on entry it is the listener).
SEC("fexit/inet_csk_accept")
int netsnoop_accept(unsigned long long *ctx)
{
	__u64 ret = 0;
	if (bpf_get_func_ret(ctx, &ret) != 0 || ret == 0)
		return 0;
	struct sock_event e;
	if (!fill_sock(&e, (struct sock *)ret))
		return 0;
	e.kind = KIND_ACCEPT;
	fill_task(&e);
	submit(&e);
	return 0;
}

static __always_inline int udp_send(unsigned long long *ctx, int v6)
{
	__u64 ret = 0;
	bpf_get_func_ret(ctx, &ret);
	if ((long long)ret < 0)
		return 0;
	struct sock *sk = (struct sock *)ctx[0];
	struct msghdr *msg = (struct msghdr *)ctx[1];
	struct sock_event e;
	if (!fill_sock(&e, sk))
		return 0;
	// An unconnected socket names its destination in the message.
	void *name = BPF_CORE_READ(msg, msg_name);
	if (name) {
		if (v6) {
			struct sockaddr_in6 *a = name;
			e.dport = __builtin_bswap16(BPF_CORE_READ(a, sin6_port));
			BPF_CORE_READ_INTO(&e.daddr, a, sin6_addr.s6_addr);
		} else {
			struct sockaddr_in *a = name;
			__be32 d = BPF_CORE_READ(a, sin_addr);
			e.dport = __builtin_bswap16(BPF_CORE_READ(a, sin_port));
			__builtin_memset(e.daddr, 0, 16);
			__builtin_memcpy(e.daddr, &d, 4);
		}
	}
	struct udp_key key = {.sk = (__u64)sk, .dport = e.dport};
	__builtin_memcpy(key.daddr, e.daddr, 16);
	__u64 *last = bpf_map_lookup_elem(&UDP_SEEN, &key);
	if (last && e.time_ns - *last < UDP_REPEAT_NS)
		return 0;
	bpf_map_update_elem(&UDP_SEEN, &key, &e.time_ns, BPF_ANY);
	e.kind = KIND_UDP_SEND;
	fill_task(&e);
	submit(&e);
	return 0;
}

SEC("fexit/udp_sendmsg")
int netsnoop_udp_send(unsigned long long *ctx)
{
	return udp_send(ctx, 0);
}

SEC("fexit/udpv6_sendmsg")
int netsnoop_udp6_send(unsigned long long *ctx)
{
	return udp_send(ctx, 1);
}

// LISTEN is set by the listening process itself; CLOSE may come from softirq, so it
// carries no process.
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netsnoop_sock_state, struct sock *sk, int oldstate, int newstate)
{
	if (newstate != TCP_LISTEN && newstate != TCP_CLOSE)
		return 0;
	struct sock_event e;
	if (!fill_sock(&e, sk) || e.protocol != IPPROTO_TCP)
		return 0;
	e.state = newstate;
	if (newstate == TCP_LISTEN) {
		e.kind = KIND_LISTEN;
		fill_task(&e);
	} else {
		e.kind = KIND_CLOSE;
	}
	submit(&e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
