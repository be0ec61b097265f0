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
 *
 * The parts, included below in order: state.bpf.h (what user space writes,
 * and the maps), checks.bpf.h (the checks of every hook), count.bpf.h
 * (counting in the kernel), capture.bpf.h (records with user memory),
 * filter.bpf.h (event filters), tasks.bpf.h (forks, signals, exits). This
 * file keeps the delivery of syscall events and the syscall hooks.
 */
#include "kernel.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "systrace.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

#include "state.bpf.h"
#include "checks.bpf.h"
#include "count.bpf.h"
#include "capture.bpf.h"

/* The ring buffer wants a constant size per reserve, so each arg count gets
 * its own reserve; a record carries nb_args args, not always six. */
#define EMIT_ENTER(N)                                                            \
	case N: {                                                                \
		rec = bpf_ringbuf_reserve(&events, ENTER_RECORD_SIZE(N), 0);     \
		if (!rec)                                                        \
			goto drop;                                               \
		fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_ENTER, N); \
		fill_entry(&rec->trace.ent, pid_tgid);                           \
		rec->trace.nr = id;                                              \
		for (int i = 0; i < N; i++)                                      \
			rec->trace.args[i] = args[i];                            \
		bpf_ringbuf_submit(rec, batch_flags(0));                         \
		return 0;                                                        \
	}

/* Writes the enter record of a call, its args without user memory; 1 if
 * it was lost (and counted). */
static __always_inline int emit_plain_enter(long id, __u64 *args, __u64 pid_tgid, __u32 root)
{
	struct systrace_enter_record *rec;

	switch (syscall_nb_args[id & (SYSTRACE_NR_SYSCALLS - 1)]) {
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
	count_drop(SYSTRACE_PHASE_ENTER, id, pid_tgid, root);
	return 1;
}

/* Writes the enter record of a call; 1 if it was lost to a full ring
 * buffer (and counted). */
static __always_inline int emit_enter(long id, __u64 *args, __u64 pid_tgid, __u32 root)
{
	__u8 nb_args = syscall_nb_args[id];

	if (test_bit(id, capture_syscalls) && enter_captures(id))
		return emit_enter_captured(
			id, args, nb_args > SYSTRACE_MAX_ARGS ? SYSTRACE_MAX_ARGS : nb_args,
			pid_tgid, root);
	return emit_plain_enter(id, args, pid_tgid, root);
}

/* Writes the exit record of a call. */
static __always_inline int emit_exit(long nr, long ret, __u64 pid_tgid, __u32 root)
{
	struct systrace_exit_record *rec;

	if (test_bit(nr, capture_syscalls))
		return emit_exit_captured(nr, ret, pid_tgid, root);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_drop(SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
		return 0;
	}
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_EXIT, 0);
	fill_entry(&rec->trace.ent, pid_tgid);
	rec->trace.nr = nr;
	rec->trace.ret = ret;
	bpf_ringbuf_submit(rec, batch_flags(0));
	return 0;
}

#include "filter.bpf.h"

/* The enter hook saw a call of a thread under a seccomp filter: marked for
 * its exit (enter_refused), when both its phases are enabled. */
static __always_inline void mark_entered(long id)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct entered_call *mark;

	if (!under_seccomp_filter(task) || !test_bit(id, enabled_exit_syscalls))
		return;
	mark = bpf_task_storage_get(&entered_calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (mark)
		mark->nr = id;
	else
		__sync_fetch_and_add(&entered_unmarked, 1);
}

/* Whether the call now exiting is one whose enter the tracepoint never saw
 * because a seccomp filter refused it: the filter runs before the enter
 * tracepoint, and a refused call runs nothing, then exits through the
 * exit tracepoint (refused_ret). Takes the thread's mark either way. */
static __always_inline bool enter_refused(long nr, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct entered_call *mark;
	bool seen;

	if (!under_seccomp_filter(task) || !test_bit(nr, enabled_enter_syscalls))
		return false;
	mark = bpf_task_storage_get(&entered_calls, task, 0, 0);
	seen = mark && mark->nr == nr;
	if (mark)
		mark->nr = -1;
	return !seen && refused_ret(nr, ret);
}

/* The enter of a call a seccomp filter refused, made at its exit so that
 * the call shows its arguments as strace shows them: they are still in
 * the registers (the call did not run). What its enter would have read of
 * user memory as a string, a buffer or a structure its exit reads, as it
 * reads what faulted at an enter; memory the process had not touched yet
 * faults there too (the call that would have faulted it in never ran).
 * Through output_plain_enter: a reserve per arg count, as emit_enter's,
 * cost the exit hooks 800 more verified instructions for this rare path. */
static __always_inline void emit_refused_enter(long nr, __u64 pid_tgid, __u32 root)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pending_call *pending;
	struct call_args args;

	nr &= SYSTRACE_NR_SYSCALLS - 1;
	syscall_get_arguments((struct pt_regs *)bpf_task_pt_regs(task), args.v);
	output_plain_enter(nr, &args, 0, pid_tgid, root);
	if (!test_bit(nr, capture_syscalls) || !capture_specs[nr].refetch_mask)
		return;
	pending = bpf_task_storage_get(&pending_calls, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!pending) {
		/* The exit shows the pointers. */
		__sync_fetch_and_add(&entered_unmarked, 1);
		return;
	}
	pending->nr = nr;
	pending->retry_mask = capture_specs[nr].refetch_mask;
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		pending->args[i] = args.v[i];
}

/* Deliver the enter of a wanted call whose arguments are read: every enter
 * hook ends here, whatever tracepoint it is attached to. */
static __always_inline int deliver_enter(long id, __u64 *args, __u64 pid_tgid, __u32 root)
{
	const struct systrace_filter *f;

	mark_entered(id);
	if ((filter_experiment & 8) && filter_slot[id & (SYSTRACE_NR_SYSCALLS - 1)])
		return 0; /* the experiment that rejects before the lookup */
	f = with_filters ? filter_of(id, filter_slot) : 0;
	if (f && !filter_enter(f, id, args, pid_tgid, root))
		return 0;
	if (!f && with_filters)
		forget_verdict(pid_tgid);
	if (emit_enter(id, args, pid_tgid, root) &&
	    (f || (with_filters && test_bit(id, session_filtered))))
		enter_lost(f, id, pid_tgid);
	return 0;
}

/* Deliver the exit of a wanted call: every exit hook ends here. */
static __always_inline int deliver_exit(long nr, long ret, __u64 pid_tgid, __u32 root)
{
	const struct systrace_filter *f;
	bool pass, refused;
	int verdict;

	refused = enter_refused(nr, ret);
	if ((filter_experiment & 8) && filter_slot[nr & (SYSTRACE_NR_SYSCALLS - 1)])
		return 0; /* the experiment that rejects before the lookup */
	f = with_filters ? filter_of(nr, filter_slot) : 0;
	if (f)
		verdict = filter_exit(f, nr, ret, pid_tgid);
	else if (with_filters && test_bit(nr, session_filtered) && take_lost_mark(nr))
		verdict = EXIT_LOST; /* see session_filtered */
	else
		verdict = true;
	if (verdict == EXIT_SEND_HELD &&
	    emit_held_enter(bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0, 0),
			    pid_tgid, root))
		verdict = EXIT_LOST;
	pass = verdict == true || verdict == EXIT_SEND_HELD;
	/* Marks exist only where filters were loaded. */
	if (with_filters && test_bit(nr, held_syscalls) &&
	    (!f || f->mode != SYSTRACE_FILTER_AT_EXIT) && !(filter_experiment & 16))
		take_held_enter(nr, pass, pid_tgid, root);
	if (verdict == EXIT_LOST) {
		/* Its enter was lost: a session that decides its calls whole
		 * could not take this exit; counted lost with it. */
		count_drop(SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
		return 0;
	}
	if (!pass)
		return 0;
	if (refused)
		emit_refused_enter(nr, pid_tgid, root);
	return emit_exit(nr, ret, pid_tgid, root);
}

/* -b execve: strace detaches from a process at each exec it makes, but
 * the one that starts a launched command. If this exit is of such an
 * exec, the process is forgotten (so are the processes it forks from now
 * on) and WANT_COUNT is returned: the exit is delivered, not counted
 * (strace never sees it return). Global, so checked once, not on each
 * path of the exit hooks (4,000 more instructions inlined). */
__noinline int exit_detaches(long nr, long ret, __u64 pid_tgid)
{
	__u32 tgid = pid_tgid >> 32;
	struct systrace_tgid *entry;
	__u32 i = nr & (SYSTRACE_NR_SYSCALLS - 1);

	if (ret || (capture_specs[i].kind[0] != SYSTRACE_CAPTURE_EXEC_FILENAME &&
		    capture_specs[i].kind[1] != SYSTRACE_CAPTURE_EXEC_FILENAME))
		return 0;
	entry = bpf_map_lookup_elem(&traced_tgids, &tgid);
	if (!entry)
		return 0; /* traced as one of every process: never detached */
	if (entry->flags & SYSTRACE_TGID_LAUNCHED) {
		entry->flags &= ~SYSTRACE_TGID_LAUNCHED; /* one exec at a time: no race */
		return 0;
	}
	bpf_map_delete_elem(&traced_tgids, &tgid);
	if (only_tgid == tgid)
		only_tgid = 0;
	return WANT_COUNT;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	__u64 args[SYSTRACE_MAX_ARGS];
	__u64 pid_tgid;
	__u32 root;
	int want;

	handoff_clear(HOOK_EXIT);
	want = wanted(id, enabled_enter_syscalls, &pid_tgid, &root, true);
	if (!want || !hooks_mine(HOOKS_RAW, HOOK_ENTER))
		return 0;
	if (with_count && (want & WANT_COUNT) && counts_thread(pid_tgid))
		count_enter(id, pid_tgid, root);
	if (!(want & WANT_DELIVER))
		return 0;
	syscall_get_arguments(regs, args);
	return deliver_enter(id, args, pid_tgid, root);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid;
	__u32 root;
	int want;
	long nr;

	/* sys_exit passes the return value; the number is in the registers. */
	handoff_clear(HOOK_ENTER);
	nr = syscall_get_nr(regs);
	want = wanted(nr, enabled_exit_syscalls, &pid_tgid, &root, true);
	if (!want || !hooks_mine(HOOKS_RAW, HOOK_EXIT))
		return 0;
	if (detach_on_execve)
		want &= ~exit_detaches(nr, ret, pid_tgid);
	if (with_count && (want & WANT_COUNT) && counts_thread(pid_tgid))
		count_exit(nr, ret, pid_tgid, root);
	if (!(want & WANT_DELIVER))
		return 0;
	return deliver_exit(nr, ret, pid_tgid, root);
}

/* The per-syscall events (syscalls/sys_enter_NAME), one program attached
 * to each enabled syscall's event while the enabled set is small. The
 * kernel built the record (the number and nb_args args) before calling. */
SEC("tracepoint")
int sys_enter_event(struct syscall_trace_enter *ctx)
{
	__u64 args[SYSTRACE_MAX_ARGS];
	long id = ctx->nr;
	__u64 pid_tgid;
	__u32 root;
	int want;

	want = wanted(id, enabled_enter_syscalls, &pid_tgid, &root, false);
	if (!want || !hooks_mine(HOOKS_SYSCALL, HOOK_ENTER))
		return 0;
	if (with_count && (want & WANT_COUNT) && counts_thread(pid_tgid))
		count_enter(id, pid_tgid, root);
	if (!(want & WANT_DELIVER))
		return 0;
	/* The record's args are the registers the kernel read them from (these
	 * events never fire for compat calls). Direct loads from the task's
	 * registers: the kernel refuses to attach a program whose ctx reads go
	 * past the shortest event's fields, and bpf_probe_read_kernel() of the
	 * record cost a checked copy per call. */
	syscall_get_arguments((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), args);
	return deliver_enter(id, args, pid_tgid, root);
}

SEC("tracepoint")
int sys_exit_event(struct syscall_trace_exit *ctx)
{
	long nr = ctx->nr;
	__u64 pid_tgid;
	__u32 root;
	int want;

	want = wanted(nr, enabled_exit_syscalls, &pid_tgid, &root, false);
	if (!want || !hooks_mine(HOOKS_SYSCALL, HOOK_EXIT))
		return 0;
	if (detach_on_execve)
		want &= ~exit_detaches(nr, ctx->ret, pid_tgid);
	if (with_count && (want & WANT_COUNT) && counts_thread(pid_tgid))
		count_exit(nr, ctx->ret, pid_tgid, root);
	if (!(want & WANT_DELIVER))
		return 0;
	return deliver_exit(nr, ctx->ret, pid_tgid, root);
}
#include "tasks.bpf.h"
