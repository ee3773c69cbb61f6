// SPDX-License-Identifier: MIT OR GPL-2.0
// NetSnoop exec capture: records fork, exec (with argv, read in the kernel at exec time)
// and process exit into a ring buffer. Built by crates/linux/build.rs with clang.
//
// Attaches through BTF-enabled tracepoints (tp_btf), so no tracefs is needed. Kernel types
// are declared by hand below, only the fields read here; CO-RE relocations
// (preserve_access_index) match them to the running kernel's BTF, so no vmlinux.h is needed.

#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
};
typedef struct {
	int counter;
} atomic_t;
struct signal_struct {
	atomic_t live;
};
struct task_struct {
	int pid;
	int tgid;
	int exit_code;
	unsigned long long start_boottime;
	struct task_struct *real_parent;
	struct mm_struct *mm;
	struct signal_struct *signal;
	char comm[16];
};
struct linux_binprm {
	const char *filename;
};
#pragma clang attribute pop

// Keep in step with crates/linux/src/ebpf/wire.rs.
#define KIND_FORK 1
#define KIND_EXEC 2
#define KIND_EXIT 3

#define FLAG_ARGV_TRUNCATED 1
#define FLAG_ARGV_UNREADABLE 2
#define FLAG_FILENAME_TRUNCATED 4

#define COMM_LEN 16
#define FILENAME_LEN 256
// Power of two: a copy is at most ARGS_MAX - 1 bytes, so masking the length with
// ARGS_MAX - 1 is exact and proves the bound to the verifier.
#define ARGS_MAX 8192

struct event {
	__u8 kind;
	__u8 flags;
	__u16 args_len;
	__u32 pid;
	__u32 tid;
	__u32 ppid;
	__u32 uid;
	__s32 exit_code;
	__u64 time_ns;
	__u64 start_ns;
	char comm[COMM_LEN];
	char filename[FILENAME_LEN];
	char args[ARGS_MAX];
};

#define HEADER_LEN (sizeof(struct event) - ARGS_MAX)
_Static_assert(HEADER_LEN == 312, "the record layout is parsed by wire.rs");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	// Resized by the loader (config `ring_buffer_bytes`).
	__uint(max_entries, 1 << 24);
} EVENTS SEC(".maps");

// Events that did not fit into EVENTS, per CPU; user space turns increases into Loss events.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} LOST SEC(".maps");

// An event is too large for the 512-byte BPF stack, so it is built here.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} SCRATCH SEC(".maps");

static __always_inline struct event *scratch(__u8 kind)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&SCRATCH, &zero);
	if (!e)
		return 0;
	e->kind = kind;
	e->flags = 0;
	e->args_len = 0;
	e->exit_code = 0;
	e->filename[0] = 0;
	e->time_ns = bpf_ktime_get_boot_ns();
	e->uid = (__u32)bpf_get_current_uid_gid();
	return e;
}

// User space is woken only once this much is waiting; otherwise it picks records up on its
// own short timer. In a storm that turns one wakeup per event into a few hundred a second.
#define WAKEUP_BYTES (64 * 1024)

static __always_inline void submit(struct event *e, __u64 len)
{
	__u64 flags = bpf_ringbuf_query(&EVENTS, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES
			      ? BPF_RB_FORCE_WAKEUP
			      : BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_output(&EVENTS, e, len, flags) != 0) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&LOST, &zero);
		if (lost)
			*lost += 1;
	}
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(netsnoop_fork, struct task_struct *parent, struct task_struct *child)
{
	// A new thread is not a new process.
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	struct event *e = scratch(KIND_FORK);
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(child, tgid);
	e->tid = BPF_CORE_READ(child, pid);
	e->ppid = BPF_CORE_READ(parent, tgid);
	e->start_ns = BPF_CORE_READ(child, start_boottime);
	BPF_CORE_READ_STR_INTO(&e->comm, child, comm);
	submit(e, HEADER_LEN);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(netsnoop_exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm)
{
	struct event *e = scratch(KIND_EXEC);
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->start_ns = BPF_CORE_READ(task, start_boottime);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);

	const char *filename = BPF_CORE_READ(bprm, filename);
	long n = bpf_probe_read_kernel_str(e->filename, FILENAME_LEN, filename);
	if (n == FILENAME_LEN)
		e->flags |= FLAG_FILENAME_TRUNCATED;

	// The new image's argv was just copied onto its stack by the kernel, so it is resident
	// and untouched by the program yet: reading it here cannot race with a quick exit.
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	unsigned long len = end > start ? end - start : 0;
	if (len > ARGS_MAX - 1) {
		len = ARGS_MAX - 1;
		e->flags |= FLAG_ARGV_TRUNCATED;
	}
	len &= ARGS_MAX - 1;
	if (len > 0 && bpf_probe_read_user(e->args, len, (const void *)start) != 0) {
		len = 0;
		e->flags |= FLAG_ARGV_UNREADABLE;
	}
	e->args_len = len;
	submit(e, HEADER_LEN + (len & (ARGS_MAX - 1)));
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(netsnoop_exit, struct task_struct *task)
{
	// Report the process once, when its last thread is gone.
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	struct event *e = scratch(KIND_EXIT);
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->start_ns = BPF_CORE_READ(task, start_boottime);
	e->exit_code = BPF_CORE_READ(task, exit_code);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	submit(e, HEADER_LEN);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
