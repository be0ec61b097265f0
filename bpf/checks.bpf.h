// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * The checks every hook makes before anything else (range, enable bit,
 * compat, process filter), and the handoff between the two kinds of hooks.
 *
 * Part of systrace.bpf.c, which includes it once, in order: not a header
 * of its own.
 */

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

/* SECCOMP_MODE_FILTER (uapi linux/seccomp.h): the thread's calls pass a
 * filter before the enter tracepoint (kernels without seccomp have none). */
#define SYSTRACE_SECCOMP_MODE_FILTER 2
static __always_inline bool under_seccomp_filter(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->seccomp))
		return false;
	return task->seccomp.mode == SYSTRACE_SECCOMP_MODE_FILTER;
}

/* What a call such a filter refused returns: an errno (SECCOMP_RET_ERRNO,
 * RET_TRACE without a tracer) or, rolled back for a SIGSYS (RET_TRAP),
 * its own number. */
static __always_inline bool refused_ret(long nr, long ret)
{
	return (ret < 0 && ret >= -4095) || ret == nr;
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

/* A thread of systrace's own process that is inside systrace: its
 * syscalls are the tracer's. Read from the slots in user memory, which
 * user space sets and clears without a syscall. */
static __always_inline bool quiet(__u32 tid)
{
	__u32 slots[SYSTRACE_QUIET_SLOTS];

	if (!quiet_addr || bpf_probe_read_user(slots, sizeof(slots), (void *)quiet_addr) < 0)
		return false;
	for (int i = 0; i < SYSTRACE_QUIET_SLOTS; i++)
		if (slots[i] == tid)
			return true;
	return false;
}

/* The process filter, checked only after the enable bit; `root` is set to
 * the traced process's registered ancestor. */
static __always_inline bool process_traced(__u64 pid_tgid, __u32 *root)
{
	__u32 tgid = pid_tgid >> 32;
	struct systrace_tgid *entry;

	if ((__u32)pid_tgid == ignore_tid)
		return false;
	if (tgid == self_tgid && quiet(pid_tgid))
		return false;
	*root = tgid;
	if (trace_all_processes)
		return true;
	/* The common case, one traced process and no forks followed, needs
	 * no hash lookup. */
	if (only_tgid)
		return tgid == only_tgid;
	entry = bpf_map_lookup_elem(&traced_tgids, &tgid);
	if (!entry)
		return false;
	*root = entry->root;
	return true;
}

#define WANT_DELIVER 1
#define WANT_COUNT 2

/* Index of a phase in handoff_state. */
#define HOOK_ENTER 0
#define HOOK_EXIT 1

/* Does the probe of `kind` deliver this call? Outside a switch, hook_mode
 * says. During one, the first probe of the call to get here decides by
 * hook_mode and leaves its decision; the other probe of the same call
 * (another kind, same phase, same switch) follows it. The raw hooks,
 * attached for both phases during a switch, clear the other phase's
 * decision at every call, so a decision left by a call that only one
 * probe saw is never taken for the next call's. */
static __noinline bool handoff_mine(__u32 kind, __u32 phase, __u32 gen)
{
	struct handoff_state *st;
	__u32 mode;

	if (phase > HOOK_EXIT)
		return false;
	st = bpf_task_storage_get(&handoffs, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		__sync_fetch_and_add(&handoff_unsure, 1);
		return hook_mode == kind;
	}
	if (st->pending[phase] && st->gen[phase] == gen && st->kind[phase] != kind) {
		st->pending[phase] = 0;
		return st->decision[phase] == kind;
	}
	mode = hook_mode;
	st->gen[phase] = gen;
	st->kind[phase] = kind;
	st->decision[phase] = mode;
	st->pending[phase] = 1;
	return mode == kind;
}

static __always_inline bool hooks_mine(__u32 kind, __u32 phase)
{
	__u32 gen = handoff;

	return gen ? handoff_mine(kind, phase, gen) : hook_mode == kind;
}

/* A raw hook of `phase` runs: the calls of the other phase are over. */
static __always_inline void handoff_clear(__u32 other)
{
	struct handoff_state *st;

	if (!handoff || other > HOOK_EXIT)
		return;
	st = bpf_task_storage_get(&handoffs, bpf_get_current_task_btf(), 0, 0);
	if (st)
		st->pending[other] = 0;
}

/* The checks of both hooks, cheapest and most selective first, as the
 * kernel's: the number's range (unsigned, so id == -1, a syscall skipped
 * by ptrace or seccomp, is out too), its enable or count bit, compat, the
 * process. Returns WANT_DELIVER and/or WANT_COUNT, or 0. */
static __always_inline int wanted(long nr, const __u64 *enabled, __u64 *pid_tgid, __u32 *root,
				  bool raw)
{
	int want;

	if ((unsigned long)nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	want = (test_bit(nr, enabled) ? WANT_DELIVER : 0) |
	       (test_bit(nr, counted_syscalls) ? WANT_COUNT : 0);
	if (!want)
		return 0;
	/* The per-syscall events never fire for compat calls (the kernel's
	 * trace_get_syscall_nr() says -1): only the raw hooks must check. */
	if (raw && in_compat_syscall())
		return 0;
	*pid_tgid = bpf_get_current_pid_tgid();
	return process_traced(*pid_tgid, root) ? want : 0;
}
