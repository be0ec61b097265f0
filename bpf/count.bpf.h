// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Counting in the kernel (the perf side): calls, errors, time and a log2
 * histogram per syscall, and the drop counters.
 *
 * Part of systrace.bpf.c, which includes it once, in order: not a header
 * of its own.
 */

/* floor(log2(v)), 0 for 0 and 1: the histogram bucket of a duration. */
static __always_inline __u32 log2_bucket(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffff) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r < SYSTRACE_HIST_BUCKETS ? r : SYSTRACE_HIST_BUCKETS - 1;
}

/* Switches for measuring what each part of counting costs
 * (bench/count_cost.py), from SYSTRACE_COUNT_EXPERIMENT at load: 1 counts
 * nothing into the maps, 2 keeps no start (no task storage, no clock: the
 * exit counts the call with no time). 0 in use. */
__u32 count_experiment;

/* A new counts entry's value, from .rodata: a zeroed one on the stack took
 * 360 of its 512 bytes, and the kernels that give a called function no
 * stack of its own refused the enter hooks (hook + count_call > 512). */
const struct systrace_count count_zero = {};

/* A call's number and root in one argument (a BPF function takes five). */
#define COUNT_AT(nr, root) (((__u64)(root) << 32) | (__u32)(nr))

/* -O's overhead off a call's times, down to 0 (the command's -c: loads
 * that count by root). */
static __always_inline void take_overhead(__u64 *dur_ns, __u64 *sys_ns)
{
	if (count_by_root) {
		__u64 o = count_overhead_ns;

		*dur_ns = *dur_ns > o ? *dur_ns - o : 0;
		*sys_ns = *sys_ns > o ? *sys_ns - o : 0;
	}
}

/* A failed call's errno, in the spare entries (the errnos entry could not
 * be made). Global: checked once. */
__noinline int count_spare_errno(__u32 tgid, __u64 at, __u32 err)
{
	struct systrace_count_key key = {
		.tgid = tgid, .root = at >> 32, .nr = (__u32)at, .err = err
	};
	__u64 zero = 0, *n;

	n = bpf_map_lookup_elem(&spare_errnos, &key);
	if (!n) {
		bpf_map_update_elem(&spare_errnos, &key, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&spare_errnos, &key);
		if (!n) {
			__sync_fetch_and_add(&counts_unattributed, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(n, 1);
	return 0;
}

/* A counted call in the spare entries (its counts entry could not be
 * made), as count_call counts it. Global: checked once. */
__noinline int count_spare(__u32 tgid, __u64 at, long ret, __u64 dur_ns, __u64 sys_ns)
{
	struct systrace_count_key key = { .tgid = tgid, .root = at >> 32, .nr = (__u32)at };
	struct systrace_count *c;

	c = bpf_map_lookup_elem(&spare_counts, &key);
	if (!c) {
		bpf_map_update_elem(&spare_counts, &key, &count_zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&spare_counts, &key);
		if (!c) {
			__sync_fetch_and_add(&counts_unattributed, 1);
			return 0;
		}
	}
	__sync_fetch_and_add(&c->calls, 1);
	if (dur_ns != (__u64)-1) {
		__u32 bucket;

		take_overhead(&dur_ns, &sys_ns);
		bucket = log2_bucket(dur_ns);
		__sync_fetch_and_add(&c->total_ns, dur_ns);
		__sync_fetch_and_add(&c->system_ns, sys_ns);
		barrier_var(bucket);
		if (bucket < SYSTRACE_HIST_BUCKETS)
			__sync_fetch_and_add(&c->hist[bucket], 1);
	}
	if (ret < 0 && ret >= -4095) {
		__sync_fetch_and_add(&c->errors, 1);
		count_spare_errno(tgid, at, -ret);
	}
	return 0;
}

/* One counted call (dur_ns: U64_MAX for rt_sigreturn, counted at enter;
 * sys_ns: the part of dur_ns its thread ran). Global: checked once, not
 * for each state its callers reach it in. */
__noinline int count_call(__u64 at, long ret, __u64 dur_ns, __u64 sys_ns, __u64 pid_tgid)
{
	struct systrace_count_key key = { .tgid = count_by_root ? at >> 32 : pid_tgid >> 32,
					  .root = at >> 32,
					  .nr = (__u32)at };
	struct systrace_count *c;

	if (count_experiment & 1)
		return 0;
	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &count_zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c) {
			count_spare(key.tgid, at, ret, dur_ns, sys_ns);
			return 0;
		}
	}
	c->calls++;
	if (dur_ns != (__u64)-1) {
		take_overhead(&dur_ns, &sys_ns);
		c->total_ns += dur_ns;
		c->system_ns += sys_ns;
		__u32 bucket = log2_bucket(dur_ns);

		barrier_var(bucket); /* keep the bound where the verifier sees it */
		if (bucket < SYSTRACE_HIST_BUCKETS)
			c->hist[bucket]++;
	}
	if (ret < 0 && ret >= -4095) {
		__u64 one = 1, *n;

		c->errors++;
		key.err = -ret;
		n = bpf_map_lookup_elem(&errnos, &key);
		if (n) {
			*n += 1;
		} else if (bpf_map_update_elem(&errnos, &key, &one, BPF_NOEXIST) < 0) {
			/* Another CPU made it meanwhile (a thread of the same
			 * process failing the same way), or there is no room. */
			n = bpf_map_lookup_elem(&errnos, &key);
			if (n)
				*n += 1;
			else
				count_spare_errno(key.tgid, at, key.err);
		}
	}
	return 0;
}

/* The thread's CPU time as the scheduler accounted it, less the reading of
 * its CPU's clock_task it was accounted up to: the CPU time it has run is
 * this plus that clock's now. */
static __always_inline __u64 run_clock(struct task_struct *task)
{
	return task->se.sum_exec_runtime - task->se.exec_start;
}

/* What CPU `cpu`'s clock_task has left out so far (steal, and interrupt
 * time where accounted): the CPUs' clock_tasks are apart by these (here
 * by seconds of steal, and by tens of ms from their start), their
 * runqueue clocks are not. Through the thread's task group, which has a
 * cfs_rq per CPU; 0 where a link is missing. Read with helpers: only for
 * a call that moved to another CPU. Global: checked once, not at each of
 * its two calls (the per-syscall exit hook's verified instructions 16,624
 * to 16,469). */
__noinline __u64 left_out(__u32 cpu)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cfs_rq *cfs_rq = NULL, **per_cpu = NULL;
	struct task_group *tg = NULL;
	struct rq *rq = NULL;
	__u64 clocks[2];

	if (!bpf_core_field_exists(task->se.cfs_rq) || !bpf_core_field_exists(cfs_rq->tg) ||
	    bpf_probe_read_kernel(&cfs_rq, sizeof(cfs_rq), &task->se.cfs_rq) || !cfs_rq ||
	    bpf_probe_read_kernel(&tg, sizeof(tg), &cfs_rq->tg) || !tg ||
	    bpf_probe_read_kernel(&per_cpu, sizeof(per_cpu), &tg->cfs_rq) || !per_cpu ||
	    bpf_probe_read_kernel(&cfs_rq, sizeof(cfs_rq), &per_cpu[cpu]) || !cfs_rq ||
	    bpf_probe_read_kernel(&rq, sizeof(rq), &cfs_rq->rq) || !rq ||
	    bpf_probe_read_kernel(&clocks[0], sizeof(clocks[0]), &rq->clock) ||
	    bpf_probe_read_kernel(&clocks[1], sizeof(clocks[1]), &rq->clock_task))
		return 0;
	return clocks[0] - clocks[1];
}

/* The time the thread ran in the call `st` began, which took `dur` ns
 * (bpf_ktime_get_ns()'s clock): what strace -c shows, the kernel's time
 * of the call without the time it slept or waited for a CPU. Never
 * switched out, it ran all along. Else the scheduler's account: run_clock
 * at the exit less at the enter, plus the time between them, is the time
 * it ran, the clocks' readings cancelling (both count the TSC here, apart
 * by NTP's ppm) once the clock_tasks of the two CPUs are put on one
 * footing (left_out). Kept within [0, dur]. */
static __always_inline __u64 ran_in_call(const struct start *st, __u64 dur)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 cpu = bpf_get_smp_processor_id();
	__u64 sys;

	if (task->nvcsw + task->nivcsw == st->switches)
		return dur;
	sys = dur + run_clock(task) - st->ran;
	if (cpu != st->cpu)
		sys -= left_out(cpu) - left_out(st->cpu);
	if ((__s64)sys < 0)
		return 0;
	return sys < dur ? sys : dur;
}

/* count_call for the exits, checked once on its own (global): an exit gets
 * to it by several paths (the library's per-syscall exit 10,100 to 9,100
 * verified instructions). An enter counts only rt_sigreturn, for which
 * count_call is checked with less. `st`: the call's start, NULL when it
 * has no time. */
__noinline int count_exit_call(__u64 at, long ret, __u64 dur_ns, const struct start *st,
			       __u64 pid_tgid)
{
	count_call(at, ret, dur_ns, st ? ran_in_call(st, dur_ns) : 0, pid_tgid);
	return 0;
}

/* Syscalls counted only when a call passes their filter (count=True with
 * filter=; every counting session of a syscall has the same one) have it
 * in count_filter_slot (state.bpf.h), set as the events' filters are. */

/* In filter.bpf.h. */
static __always_inline bool filter_pass(const struct systrace_filter *f, const __u64 *args,
					long ret, __u32 nr, __u32 tid);

/* The filter syscall `nr`'s calls are counted by, if any. */
static __always_inline const struct systrace_filter *count_filter(__u32 nr)
{
	return filter_of(nr, count_filter_slot);
}

/* What rt_sigreturn returns: the register it restores from the signal
 * frame (the interrupted call's -EINTR, say), at the offset from the user
 * stack pointer its capture spec has (capture.bpf.h reads it there too);
 * strace -c counts it as an error when it is an errno. 0 if unreadable. */
static __always_inline long sigreturn_ret(__u32 nr)
{
	struct pt_regs *regs = (void *)bpf_task_pt_regs(bpf_get_current_task_btf());
	__u64 sp = 0;
	long ret = 0;

	if (!regs || bpf_probe_read_kernel(&sp, sizeof(sp), &regs->sp))
		return 0;
	if (bpf_probe_read_user(
		    &ret, sizeof(ret),
		    (void *)(sp + capture_specs[nr & (SYSTRACE_NR_SYSCALLS - 1)].size[1])))
		return 0;
	return ret;
}

/* Whether the calls of this thread are counted (count_first_thread): the
 * cheap test, before its start mark is read. */
static __always_inline bool counts_thread(__u64 pid_tgid)
{
	return !count_first_thread || (__u32)pid_tgid == pid_tgid >> 32;
}

/* And with its start mark: the first thread user space marked, not one
 * that took its process's id by an exec since (strace lost the process,
 * whose old first thread the exec killed). */
static __always_inline bool counts_marked(const struct start *st)
{
	return !count_first_thread || (st && (st->flags & SYSTRACE_START_FIRST_THREAD));
}

/* A counted call begins: remember when, for its exit, unless its filter
 * rejects it now; a filter naming ret keeps the arguments for the exit.
 * The hooks have not read the arguments (they may deliver nothing): the
 * task's registers have them. */
static __always_inline void count_enter(__u32 nr, __u64 pid_tgid, __u32 root)
{
	const struct systrace_filter *f = count_filter(nr);
	__u64 args[SYSTRACE_MAX_ARGS] = {};
	struct task_struct *task;
	struct start *st;

	if (count_experiment & 2)
		return;
	if (f)
		syscall_get_arguments(
			(struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), args);
	if (nr == sigreturn_nr) { /* no exit will come */
		long ret;

		if (count_first_thread &&
		    !counts_marked(bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0)))
			return;
		ret = sigreturn_ret(nr);
		if (!f || filter_pass(f, args, ret, nr, pid_tgid))
			count_call(COUNT_AT(nr, root), ret, (__u64)-1, 0, pid_tgid);
		return;
	}
	task = bpf_get_current_task_btf();
	st = bpf_task_storage_get(&starts, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st || !counts_marked(st))
		return;
	st->nr = nr;
	st->ran = run_clock(task);
	st->switches = task->nvcsw + task->nivcsw;
	st->cpu = bpf_get_smp_processor_id();
	st->ts = bpf_ktime_get_ns();
	if (!f)
		return;
	if (f->mode == SYSTRACE_FILTER_AT_EXIT) {
		for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
			st->args[i] = args[i];
	} else if (!filter_pass(f, args, 0, nr, pid_tgid)) {
		st->ts = 0; /* not counted: its exit sees no start */
	}
}

/* A call a seccomp filter refused (count_exit): its filter, if any, sees
 * the arguments in the registers. */
static __always_inline void count_refused(__u32 nr, long ret, __u64 pid_tgid, __u32 root)
{
	const struct systrace_filter *f = count_filter(nr);
	__u64 args[SYSTRACE_MAX_ARGS] = {};

	if (f) {
		syscall_get_arguments(
			(struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), args);
		if (!filter_pass(f, args, ret, nr, pid_tgid))
			return;
	}
	count_exit_call(COUNT_AT(nr, root), ret, (__u64)-1, NULL, pid_tgid);
}

/* Per syscall number: when its counting last began, stamped by user space
 * (CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock) before it sets the count
 * bit. A thread's start older than that was left by a call whose exit no
 * hook counted (counting was off then): it is not the start of the call
 * this exit ends, which began uncounted. */
__u64 counted_since[SYSTRACE_NR_SYSCALLS];

/* The command's -c counts as strace -c, which sees no end of a call whose
 * thread is killed in it (SIGKILL pending at its exit: a SIGKILL,
 * exit_group, an exec by another thread, a core dump's): it never returns
 * to its process. But a fatal signal at its default (SIGTERM, SIGINT...),
 * which the kernel turns into a group exit as it is sent, is under ptrace
 * taken as a signal first, by the thread it was sent to (the process's
 * first, here): that thread's call ends, and strace counts it. The group
 * exit's code tells: the signal's number, an exit's status << 8, a core
 * dump's signal | 0x80. */
static __always_inline bool killed_in_call(__u64 pid_tgid)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct signal_struct *signal = NULL;
	int code = 0;

	if (!(task->pending.signal.sig[0] & SIGKILL_BIT))
		return false;
	if ((__u32)pid_tgid != pid_tgid >> 32 ||
	    bpf_probe_read_kernel(&signal, sizeof(signal), &task->signal) ||
	    bpf_probe_read_kernel(&code, sizeof(code), &signal->group_exit_code))
		return true;
	return code <= 0 || code >= 0x80 || code == 9;
}

/* A counted call returns. A call whose enter was not seen (running when
 * the counting began, e.g. the read a launched command waits in before its
 * execve) is not counted: it is not the session's; unless a seccomp filter
 * of its thread refused it, before the enter tracepoint (counted without a
 * time, as strace -c counts it). */
static __always_inline void count_exit(__u32 nr, long ret, __u64 pid_tgid, __u32 root)
{
	struct start *st;
	const struct systrace_filter *f;
	__u64 dur;

	if (count_experiment & 2) {
		count_exit_call(COUNT_AT(nr, root), ret, 0, NULL, pid_tgid);
		return;
	}
	if (count_by_root && killed_in_call(pid_tgid))
		return;
	st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0);
	if (!counts_marked(st))
		return;
	/* A successful execveat's exit is reported as execve's: it ends the
	 * execveat its enter began (by the kinds of their filenames, which
	 * the table has whatever the load captures). */
	if (st && st->nr != nr && !ret &&
	    capture_specs[nr & (SYSTRACE_NR_SYSCALLS - 1)].kind[0] ==
		    SYSTRACE_CAPTURE_EXEC_FILENAME &&
	    capture_specs[st->nr & (SYSTRACE_NR_SYSCALLS - 1)].kind[1] ==
		    SYSTRACE_CAPTURE_EXEC_FILENAME)
		nr = st->nr;
	if (!st || st->nr != nr || !st->ts ||
	    st->ts < counted_since[nr & (SYSTRACE_NR_SYSCALLS - 1)]) {
		if (under_seccomp_filter(bpf_get_current_task_btf()) && refused_ret(nr, ret))
			count_refused(nr, ret, pid_tgid, root);
		return;
	}
	dur = bpf_ktime_get_ns() - st->ts;
	st->ts = 0;
	f = count_filter(nr);
	if (f && f->mode == SYSTRACE_FILTER_AT_EXIT && !filter_pass(f, st->args, ret, nr, pid_tgid))
		return;
	count_exit_call(COUNT_AT(nr, root), ret, dur, st, pid_tgid);
}

/* A record lost to a full ring buffer: counted by what it was. */
static __always_inline void count_drop(__u32 phase, __u32 nr, __u64 pid_tgid, __u32 root)
{
	struct systrace_drop_key key = {
		.tgid = pid_tgid >> 32, .root = root, .nr = nr, .phase = phase
	};
	__u64 one = 1, *count;

	count = bpf_map_lookup_elem(&dropped, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return;
	}
	if (bpf_map_update_elem(&dropped, &key, &one, BPF_NOEXIST) == 0)
		return;
	/* Another CPU added it meanwhile, or the map is full. */
	count = bpf_map_lookup_elem(&dropped, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		__sync_fetch_and_add(&drops_unattributed, 1);
}
