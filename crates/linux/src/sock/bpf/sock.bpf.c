// SPDX-License-Identifier: MIT OR GPL-2.0
// NetSnoop socket attribution: records which process connects, accepts (first uses an
// accepted socket), sends UDP or listens, and when TCP sockets close, into a ring buffer.
// Built by crates/linux/build.rs.
//
// Only BTF tracepoints (tp_btf), so no tracefs, no kprobes and no fentry trampolines (which
// kernels in lockdown or without CONFIG_KPROBES refuse). Kernel types are declared by hand,
// only the fields read here; CO-RE relocations match them to the running kernel's BTF.

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
	union {
		__u8 u6_addr8[16];
	} in6_u;
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
struct inet_sock {
	__be16 inet_sport;
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
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
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

// The process that started a connect, taken in its own context at SYN_SENT (the source
// port is chosen only afterwards) and reported once the 5-tuple is complete.
struct owner {
	__u32 pid;
	__u32 uid;
	__u64 cgroup_id;
	char comm[16];
};

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

// Connects in flight, by socket. LRU: a connect whose socket vanished without a state
// change makes room for new ones instead of filling the map.
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct owner);
} CONNECTING SEC(".maps");

// Sockets already reported, so a send or receive reports a socket once (UDP: once per
// destination every UDP_REPEAT_NS). LRU, so it never fills.
struct seen_key {
	__u64 sk;
	__u8 daddr[16];
	__u16 dport;
	__u16 pad1;
	__u32 pad2;
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct seen_key);
	__type(value, __u64);
} SEEN SEC(".maps");
#define UDP_REPEAT_NS (5ULL * 1000 * 1000 * 1000)

static __always_inline void current_owner(struct owner *o)
{
	o->pid = bpf_get_current_pid_tgid() >> 32;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->cgroup_id = bpf_get_current_cgroup_id();
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	BPF_CORE_READ_STR_INTO(&o->comm, task, group_leader, comm);
}

static __always_inline void set_owner(struct sock_event *e, const struct owner *o)
{
	e->pid = o->pid;
	e->uid = o->uid;
	e->cgroup_id = o->cgroup_id;
	__builtin_memcpy(e->comm, o->comm, 16);
}

// Addresses and ports of `sk` as the socket holds them; false for families other than IP.
static __always_inline int fill_sock(struct sock_event *e, struct sock *sk)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->time_ns = bpf_ktime_get_boot_ns();
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->protocol = BPF_CORE_READ(sk, sk_protocol);
	e->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	// skc_num is cleared when a closing socket gives its port back, before the CLOSE
	// tracepoint fires; inet_sport keeps it.
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (e->sport == 0)
		e->sport = __builtin_bswap16(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	e->dport = __builtin_bswap16(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (e->family == AF_INET) {
		__be32 s = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__be32 d = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->saddr, &s, 4);
		__builtin_memcpy(e->daddr, &d, 4);
		return 1;
	}
	if (e->family == AF_INET6) {
		BPF_CORE_READ_INTO(&e->saddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->daddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		return 1;
	}
	return 0;
}

// User space is woken only once this much is waiting; otherwise it reads on its own
// 50 ms timer. Waking it per record would cost a context switch per connection.
#define WAKEUP_BYTES (64 * 1024)

static __always_inline void submit(struct sock_event *e)
{
	__u64 flags = bpf_ringbuf_query(&SOCK_EVENTS, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES
			      ? BPF_RB_FORCE_WAKEUP
			      : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&SOCK_EVENTS, e, sizeof(*e), flags) != 0) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&SOCK_LOST, &zero);
		if (lost)
			__sync_fetch_and_add(lost, 1);
	}
}

static __always_inline void mark_seen(__u64 sk, __u64 now)
{
	struct seen_key key = {.sk = sk};
	bpf_map_update_elem(&SEEN, &key, &now, BPF_ANY);
}

// connect: SYN_SENT is set by the connecting process itself; the tuple is complete at the
// next change (ESTABLISHED, or CLOSE for a refused connect, which a scan is made of).
// LISTEN is set by the listening process. CLOSE may come from softirq: no process.
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netsnoop_sock_state, struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;
	if (newstate == TCP_SYN_SENT) {
		struct owner o = {};
		current_owner(&o);
		bpf_map_update_elem(&CONNECTING, &key, &o, BPF_ANY);
		return 0;
	}
	// Cheap filters first: most changes (the passive side's SYN_RECV and ESTABLISHED,
	// FIN states) report nothing.
	struct seen_key sk_key = {.sk = key};
	struct owner *o = 0;
	if (oldstate == TCP_SYN_SENT)
		o = bpf_map_lookup_elem(&CONNECTING, &key);
	if (newstate == TCP_ESTABLISHED && !o)
		return 0;
	// A close is reported only for a socket reported before (connect, first use, listen).
	if (newstate == TCP_CLOSE && !o && !bpf_map_lookup_elem(&SEEN, &sk_key))
		return 0;
	if (newstate != TCP_ESTABLISHED && newstate != TCP_CLOSE && newstate != TCP_LISTEN)
		return 0;
	struct sock_event e;
	if (!fill_sock(&e, sk) || e.protocol != IPPROTO_TCP)
		return 0;
	e.state = newstate;
	if (o) {
		struct sock_event c = e;
		c.kind = KIND_CONNECT;
		set_owner(&c, o);
		submit(&c);
		bpf_map_delete_elem(&CONNECTING, &key);
		if (newstate == TCP_ESTABLISHED)
			mark_seen(key, e.time_ns);
	}
	if (newstate == TCP_LISTEN) {
		struct owner lo = {};
		current_owner(&lo);
		set_owner(&e, &lo);
		e.kind = KIND_LISTEN;
		mark_seen(key, e.time_ns);
		submit(&e);
	} else if (newstate == TCP_CLOSE) {
		bpf_map_delete_elem(&SEEN, &sk_key);
		e.kind = KIND_CLOSE;
		submit(&e);
	}
	return 0;
}

// The first send or receive of a TCP socket not yet reported is its owner's first use: for
// an accepted socket, the accepting process (the accept itself has no tracepoint). A UDP
// socket is reported per destination every UDP_REPEAT_NS; unconnected, by its port.
static __always_inline int first_use(struct sock *sk, int ret, int sending)
{
	if (ret < 0)
		return 0;
	__u16 protocol = BPF_CORE_READ(sk, sk_protocol);
	struct seen_key key = {.sk = (__u64)sk};
	// Every send and receive on the host passes here: a socket already reported costs
	// one lookup.
	if (protocol == IPPROTO_TCP) {
		if (bpf_map_lookup_elem(&SEEN, &key))
			return 0;
	} else if (protocol != IPPROTO_UDP || !sending) {
		return 0;
	}
	struct sock_event e;
	if (!fill_sock(&e, sk))
		return 0;
	if (protocol == IPPROTO_TCP) {
		if (e.dport == 0)
			return 0;
		e.kind = KIND_ACCEPT;
	} else {
		__builtin_memcpy(key.daddr, e.daddr, 16);
		key.dport = e.dport;
		__u64 *last = bpf_map_lookup_elem(&SEEN, &key);
		if (last && e.time_ns - *last < UDP_REPEAT_NS)
			return 0;
		e.kind = KIND_UDP_SEND;
	}
	bpf_map_update_elem(&SEEN, &key, &e.time_ns, BPF_ANY);
	struct owner o = {};
	current_owner(&o);
	set_owner(&e, &o);
	submit(&e);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(netsnoop_send, struct sock *sk, int ret, int flags)
{
	return first_use(sk, ret, 1);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(netsnoop_recv, struct sock *sk, int ret, int flags)
{
	return first_use(sk, ret, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
