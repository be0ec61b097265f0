// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Task events: followed forks, signals, and thread exits.
 *
 * Plain raw tracepoints, not tp_btf: a program attached by BTF id makes
 * libbpf parse the kernel's whole BTF at every load to find its target
 * (about 5 ms, issue 15: start-up), and these events are rare enough that
 * reading another task's fields with a helper costs nothing that shows.
 * The current task is still read directly (bpf_get_current_task_btf()).
 *
 * Part of systrace.bpf.c, which includes it once, in order: not a header
 * of its own.
 */

/* Field `f` of the kernel object at `p`, which the verifier knows only as
 * a number (a raw tracepoint's argument): read with a helper, at the
 * offset CO-RE relocates. 0 if it cannot be read. */
#define KERNEL_FIELD(p, f)                                               \
	({                                                               \
		typeof((p)->f) _field = 0;                               \
		bpf_probe_read_kernel(&_field, sizeof(_field), &(p)->f); \
		_field;                                                  \
	})

/* A traced process that is followed forked: trace the child from its first
 * syscall, as a descendant of the parent's registered ancestor, so that the
 * sessions following that ancestor take its events (no record is needed:
 * each event carries its root). */
SEC("raw_tp/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = KERNEL_FIELD(parent, tgid), ctgid = KERNEL_FIELD(child, tgid);
	struct systrace_tgid *entry, value;

	if (ptgid == ctgid) /* a new thread: its process is traced already */
		return 0;
	entry = bpf_map_lookup_elem(&traced_tgids, &ptgid);
	if (!entry || !(entry->flags & SYSTRACE_TGID_FOLLOW))
		return 0;
	value.flags = SYSTRACE_TGID_TRACED | SYSTRACE_TGID_FOLLOW | SYSTRACE_TGID_DISCOVERED;
	value.root = entry->root;
	if (bpf_map_update_elem(&traced_tgids, &ctgid, &value, BPF_NOEXIST) < 0 &&
	    !bpf_map_lookup_elem(&traced_tgids, &ctgid))
		__sync_fetch_and_add(&untraced_forks, 1); /* the map is full */
	return 0;
}

/* Field `f` of task->signal, read with helpers, as KERNEL_FIELD (even
 * where `task` is the current one: a pointer loaded from a task_struct has
 * the verifier look up by name whether it is trusted, a scan of the
 * kernel's BTF per check, 1-2 ms of each program's load, issue 15).
 * 0 if it cannot be read. */
#define TASK_SIGNAL_FIELD(task, f)                                                      \
	({                                                                              \
		struct signal_struct *_signal = NULL;                                   \
		typeof(_signal->f) _value = 0;                                          \
		if (!bpf_probe_read_kernel(&_signal, sizeof(_signal), &(task)->signal)) \
			bpf_probe_read_kernel(&_value, sizeof(_value), &_signal->f);    \
		_value;                                                                 \
	})

/* The siginfo's layout (siginfo_t's, an ABI): three ints, then the union. */
struct raw_siginfo {
	__s32 signo;
	__s32 si_errno;
	__s32 code;
	__s32 pad;
	__u64 fields[SYSTRACE_SIGINFO_WORDS];
};

/* A signal record for thread `pid_tgid` (`task`: its task_struct), of
 * signal `sig` with `info` (NULL, or SEND_SIG_NOINFO/SEND_SIG_PRIV, when
 * there is none) and the handler `ka` (NULL when unknown). */
static __always_inline void emit_signal(struct task_struct *task, __u64 pid_tgid, __u32 root,
					int sig, struct kernel_siginfo *info,
					struct k_sigaction *ka, __u32 flags)
{
	struct systrace_signal_record *rec;
	struct raw_siginfo raw = {};
	__u64 handler = 0;

	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are not pointers. Sent
	 * so, the kernel fills in the siginfo itself (__send_signal_locked):
	 * SI_USER from the sender (a write to a closed pipe's SIGPIPE), or
	 * SI_KERNEL. Delivered so, there is none (a group exit's SIGKILL). */
	if ((unsigned long)info <= 1 && (flags & SYSTRACE_SIGNAL_AT_SEND)) {
		raw.code = info ? SYSTRACE_SI_KERNEL : 0 /* SI_USER */;
		if (!info)
			raw.fields[0] = bpf_get_current_pid_tgid() >> 32 |
					(bpf_get_current_uid_gid() & 0xffffffff) << 32;
	} else if ((unsigned long)info <= 1 || bpf_probe_read_kernel(&raw, sizeof(raw), info) < 0) {
		flags |= SYSTRACE_SIGNAL_NO_INFO;
	}
	if (ka)
		bpf_probe_read_kernel(&handler, sizeof(handler), &ka->sa.sa_handler);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_drop(SYSTRACE_PHASE_SIGNAL, sig, pid_tgid, root);
		return;
	}
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_SIGNAL, 0);
	/* The thread's name, not the current one's (the sender's). */
	bpf_probe_read_kernel(rec->hdr.comm, sizeof(rec->hdr.comm), task->comm);
	fill_entry(&rec->sig.ent, pid_tgid);
	rec->sig.signo = sig;
	rec->sig.si_errno = raw.si_errno;
	rec->sig.code = raw.code;
	rec->sig.flags = flags;
	rec->sig.handler = handler;
	for (int i = 0; i < SYSTRACE_SIGINFO_WORDS; i++)
		rec->sig.fields[i] = raw.fields[i];
	bpf_ringbuf_submit(rec, submit_flags());
}

/* A traced thread is about to act on a signal (run its handler, ignore it,
 * or take the default action): strace's `--- SIGCHLD {...} ---`. Attached
 * only while a session asks for signals. */
SEC("raw_tp/signal_deliver")
int BPF_PROG(signal_deliver, int sig, struct kernel_siginfo *info, struct k_sigaction *ka)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 root;

	if (!process_traced(pid_tgid, &root))
		return 0;
	emit_signal(bpf_get_current_task_btf(), pid_tgid, root, sig, info, ka, 0);
	return 0;
}

/* A signal sent that kills its process at once: a fatal one with its
 * default action and no core dump (SIGTERM, SIGINT...), which the kernel
 * turns into a group exit as it is sent, so no thread ever acts on it
 * (signal_deliver then sees only the SIGKILL of the group exit, without
 * siginfo). Recorded here, at its sending, as the target thread's, with
 * its siginfo: what strace shows before `+++ killed by SIGTERM +++`. And a
 * signal its target ignores, which the kernel discards as it is sent. */
SEC("raw_tp/signal_generate")
int BPF_PROG(signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u64 pid_tgid;
	__u32 root;

	if (sig == 9) /* SIGKILL: never shown */
		return 0;
	/* A signal its target ignores: discarded now, so recorded now. Not
	 * one to a process already exiting (which the kernel reports ignored
	 * too): no thread of it would ever see it. */
	if (result == SYSTRACE_TRACE_SIGNAL_IGNORED) {
		__u32 flags = SYSTRACE_SIGNAL_AT_SEND | SYSTRACE_SIGNAL_IGNORED;

		if (TASK_SIGNAL_FIELD(task, flags) & SYSTRACE_SIGNAL_GROUP_EXIT)
			return 0;
		pid_tgid = (__u64)KERNEL_FIELD(task, tgid) << 32 | (__u32)KERNEL_FIELD(task, pid);
		if (!process_traced(pid_tgid, &root))
			return 0;
		if (pid_tgid == bpf_get_current_pid_tgid())
			flags |= SYSTRACE_SIGNAL_SELF;
		emit_signal(task, pid_tgid, root, sig, info, 0, flags);
		return 0;
	}
	if (result != SYSTRACE_TRACE_SIGNAL_DELIVERED)
		return 0;
	/* This signal started the group exit: a later one would have been
	 * dropped (its result not DELIVERED). */
	if (!(TASK_SIGNAL_FIELD(task, flags) & SYSTRACE_SIGNAL_GROUP_EXIT) ||
	    TASK_SIGNAL_FIELD(task, group_exit_code) != sig)
		return 0;
	pid_tgid = (__u64)KERNEL_FIELD(task, tgid) << 32 | (__u32)KERNEL_FIELD(task, pid);
	if (!process_traced(pid_tgid, &root))
		return 0;
	emit_signal(task, pid_tgid, root, sig, info, 0, SYSTRACE_SIGNAL_AT_SEND);
	return 0;
}

/* A traced thread exited: strace's `+++ exited with 0 +++` (per thread
 * under -f), `+++ killed by SIGKILL +++`. */
static __always_inline void emit_task_exit(struct task_struct *task, bool group_dead)
{
	struct systrace_task_exit_record *rec;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 root;

	if (!process_traced(pid_tgid, &root))
		return;
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_drop(SYSTRACE_PHASE_TASK_EXIT, 0, pid_tgid, root);
		return;
	}
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_TASK_EXIT, 0);
	fill_entry(&rec->task.ent, pid_tgid);
	rec->task.exit_code = KERNEL_FIELD(task, exit_code);
	rec->task.group_dead = group_dead;
	rec->task.compat = in_compat_syscall();
	/* Wake the consumer: a process's end is what its user waits for. */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* A thread exits (in do_exit, as the exiting task, its exit_code set).
 * Records it for the sessions that want thread exits; and once the last
 * thread of a process found by following exits, forgets the process, so
 * the filter map does not fill with dead processes over a long trace
 * (after recording: its last exit is still the session's). */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = KERNEL_FIELD(task, tgid);
	struct systrace_tgid *entry;
	/* do_exit() counted the thread out of signal->live before this. */
	bool group_dead = TASK_SIGNAL_FIELD(task, live.counter) == 0;

	if (trace_task_exits)
		emit_task_exit(task, group_dead);
	if (!group_dead || !follow_forks)
		return 0;
	entry = bpf_map_lookup_elem(&traced_tgids, &tgid);
	if (entry && (entry->flags & SYSTRACE_TGID_DISCOVERED))
		bpf_map_delete_elem(&traced_tgids, &tgid);
	return 0;
}
