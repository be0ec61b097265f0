/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The record layout shared by the BPF programs (bpf/systrace.bpf.c) and the
 * Rust core. This is the one definition of the wire format: libbpf-cargo
 * generates the Rust types from it, and define_fields() derives its offsets
 * from those generated types. Nothing else re-declares it.
 *
 * A record is a systrace_header followed by the kernel's own trace record
 * for the event (struct syscall_trace_enter / syscall_trace_exit), kept
 * byte-compatible with kernel/trace/trace_syscalls.c so that the kernel's
 * tracefs "format" offsets describe our records too.
 */
#ifndef SYSTRACE_H
#define SYSTRACE_H

/* Size of the enable bitmaps and of the nb_args table: every syscall number
 * of x86_64 and aarch64 is far below this. Numbers at or above it are never
 * traced (this also drops id == -1 and x32's high-bit numbers). */
#define SYSTRACE_NR_SYSCALLS 1024
#define SYSTRACE_MAX_ARGS 6
#define SYSTRACE_TASK_COMM_LEN 16

/* systrace_header.phase. An enum rather than macros so that its values
 * reach the generated Rust types too. */
enum systrace_phase {
	SYSTRACE_PHASE_ENTER = 1,
	SYSTRACE_PHASE_EXIT = 2,
};

/* The kernel's common fields (struct trace_entry). */
struct trace_entry {
	__u16 type;
	__u8 flags;
	__u8 preempt_count;
	__s32 pid; /* the thread id, as the kernel's common_pid */
};

/* As the kernel's: only nb_args of args[] are present in a record. */
struct syscall_trace_enter {
	struct trace_entry ent;
	__s32 nr;
	__u64 args[SYSTRACE_MAX_ARGS];
};

struct syscall_trace_exit {
	struct trace_entry ent;
	__s32 nr;
	__s64 ret;
};

/* What systrace adds in front of the kernel's record. */
struct systrace_header {
	__u64 timestamp_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 tgid; /* the process id */
	__u16 cpu;
	__u8 phase; /* SYSTRACE_PHASE_ENTER or SYSTRACE_PHASE_EXIT */
	__u8 nb_args; /* args present in an enter record */
	char comm[SYSTRACE_TASK_COMM_LEN];
};

struct systrace_enter_record {
	struct systrace_header hdr;
	struct syscall_trace_enter trace;
};

struct systrace_exit_record {
	struct systrace_header hdr;
	struct syscall_trace_exit trace;
};

#endif /* SYSTRACE_H */
