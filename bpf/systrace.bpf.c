// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * systrace's kernel side: the raw_syscalls sys_enter/sys_exit hooks.
 *
 * As kernel/trace/trace_syscalls.c does, each hook checks the syscall
 * number's range, then the enable bit for that syscall, and returns as early
 * as it can; only then does it look at who made the call. User space owns
 * the enable bitmaps and the process filter (it writes them while the
 * programs are attached) and attaches a program only while some syscall is
 * enabled for its phase, so a syscall nobody asked for costs one bit test.
 *
 * tp_btf programs (BTF-typed raw tracepoints) read the registers directly;
 * unlike classic tracepoint programs they do not make the kernel build a
 * trace record for every syscall first.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "systrace.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#define BITMAP_WORDS (SYSTRACE_NR_SYSCALLS / 64)

/* Written by user space through the mmapped .bss while attached. */
__u64 enabled_enter_syscalls[BITMAP_WORDS];
__u64 enabled_exit_syscalls[BITMAP_WORDS];
/* Sessions that trace every process; when 0, traced_tgids decides. */
__u32 trace_all_processes;
/* systrace's own consumer thread: never traced, or tracing would feed itself. */
__u32 ignore_tid;
/* Wake the consumer once this much is waiting; below it, the consumer's
 * own short poll timeout picks records up. Batching wake-ups is what keeps
 * tracing every syscall cheap. */
__u64 wakeup_bytes = 1;

/* Set before load from the syscall metadata table: args per syscall number.
 * 0xff marks a number without metadata: its records carry all six args. */
const volatile __u8 syscall_nb_args[SYSTRACE_NR_SYSCALLS];

/* Dummy instances: they make libbpf-cargo emit the record types for Rust. */
struct systrace_enter_record _enter_record = {};
struct systrace_exit_record _exit_record = {};
enum systrace_phase _phase = SYSTRACE_PHASE_ENTER;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* user space sets the size before load */
} events SEC(".maps");

/* tgid -> number of sessions tracing it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} traced_tgids SEC(".maps");

/* Records lost to a full ring buffer, per CPU, indexed by
 * (phase - 1) * SYSTRACE_NR_SYSCALLS + nr so each session can count its own. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * SYSTRACE_NR_SYSCALLS);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

static __always_inline bool test_bit(__u64 nr, const __u64 *bitmap)
{
	return bitmap[nr / 64] & (1ULL << (nr % 64));
}

/* The kernel's trace_get_syscall_nr() returns -1 for compat (32-bit)
 * syscalls, whose numbers mean other syscalls: ignore them likewise. */
static __always_inline bool in_compat_syscall(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
#if defined(__TARGET_ARCH_x86)
	return task->thread_info.status & SYSTRACE_TS_COMPAT;
#else
	return task->thread_info.flags & (1UL << SYSTRACE_TIF_32BIT);
#endif
}

static __always_inline long syscall_get_nr(struct pt_regs *regs)
{
#if defined(__TARGET_ARCH_x86)
	return regs->orig_ax;
#else
	return regs->syscallno;
#endif
}

static __always_inline void syscall_get_arguments(struct pt_regs *regs, __u64 *args)
{
#if defined(__TARGET_ARCH_x86)
	args[0] = regs->di;
	args[1] = regs->si;
	args[2] = regs->dx;
	args[3] = regs->r10;
	args[4] = regs->r8;
	args[5] = regs->r9;
#else
	/* regs[0] holds the return value once the call has run; orig_x0 keeps arg 0. */
	args[0] = regs->orig_x0;
	args[1] = regs->regs[1];
	args[2] = regs->regs[2];
	args[3] = regs->regs[3];
	args[4] = regs->regs[4];
	args[5] = regs->regs[5];
#endif
}

/* The process filter, checked only after the enable bit. */
static __always_inline bool process_traced(__u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32;

	if ((__u32)pid_tgid == ignore_tid)
		return false;
	if (trace_all_processes)
		return true;
	return bpf_map_lookup_elem(&traced_tgids, &tgid) != 0;
}

static __always_inline void count_drop(__u32 phase, __u32 nr)
{
	__u32 key = (phase - 1) * SYSTRACE_NR_SYSCALLS + nr;
	__u64 *count = bpf_map_lookup_elem(&dropped, &key);

	if (count)
		*count += 1;
}

static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									       BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct systrace_header *hdr, __u64 pid_tgid, __u8 phase,
					__u8 nb_args)
{
	hdr->timestamp_ns = bpf_ktime_get_ns();
	hdr->tgid = pid_tgid >> 32;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->phase = phase;
	hdr->nb_args = nb_args;
	bpf_get_current_comm(hdr->comm, sizeof(hdr->comm));
}

static __always_inline void fill_entry(struct trace_entry *ent, __u64 pid_tgid)
{
	ent->type = 0; /* the event id is user space's to assign */
	ent->flags = 0;
	ent->preempt_count = 0;
	ent->pid = (__u32)pid_tgid;
}

#define ENTER_RECORD_SIZE(n)                                                                     \
	(sizeof(struct systrace_header) + __builtin_offsetof(struct syscall_trace_enter, args) + \
	 8 * (n))

/* The ring buffer wants a constant size per reserve, so each arg count gets
 * its own reserve; a record carries nb_args args, not always six. */
#define EMIT_ENTER(N)                                                        \
	case N: {                                                            \
		rec = bpf_ringbuf_reserve(&events, ENTER_RECORD_SIZE(N), 0); \
		if (!rec)                                                    \
			goto drop;                                           \
		fill_header(&rec->hdr, pid_tgid, SYSTRACE_PHASE_ENTER, N);   \
		fill_entry(&rec->trace.ent, pid_tgid);                       \
		rec->trace.nr = id;                                          \
		for (int i = 0; i < N; i++)                                  \
			rec->trace.args[i] = args[i];                        \
		bpf_ringbuf_submit(rec, submit_flags());                     \
		return 0;                                                    \
	}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct systrace_enter_record *rec;
	__u64 args[SYSTRACE_MAX_ARGS];
	__u64 pid_tgid;
	__u8 nb_args;

	/* Unsigned: also rejects id == -1 (no syscall, e.g. a ptrace-skipped one). */
	if ((unsigned long)id >= SYSTRACE_NR_SYSCALLS)
		return 0;
	if (!test_bit(id, enabled_enter_syscalls))
		return 0;
	if (in_compat_syscall())
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	if (!process_traced(pid_tgid))
		return 0;

	syscall_get_arguments(regs, args);
	nb_args = syscall_nb_args[id];
	switch (nb_args) {
		EMIT_ENTER(0)
		EMIT_ENTER(1)
		EMIT_ENTER(2)
		EMIT_ENTER(3)
		EMIT_ENTER(4)
		EMIT_ENTER(5)
	default:
		EMIT_ENTER(6)
	}
drop:
	count_drop(SYSTRACE_PHASE_ENTER, id);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct systrace_exit_record *rec;
	__u64 pid_tgid;
	long nr;

	/* sys_exit passes the return value; the number is in the registers. */
	nr = syscall_get_nr(regs);
	if ((unsigned long)nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	if (!test_bit(nr, enabled_exit_syscalls))
		return 0;
	if (in_compat_syscall())
		return 0;
	pid_tgid = bpf_get_current_pid_tgid();
	if (!process_traced(pid_tgid))
		return 0;

	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_drop(SYSTRACE_PHASE_EXIT, nr);
		return 0;
	}
	fill_header(&rec->hdr, pid_tgid, SYSTRACE_PHASE_EXIT, 0);
	fill_entry(&rec->trace.ent, pid_tgid);
	rec->trace.nr = nr;
	rec->trace.ret = ret;
	bpf_ringbuf_submit(rec, submit_flags());
	return 0;
}
