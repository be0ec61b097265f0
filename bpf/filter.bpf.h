// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Event filters: the compiled filter program run per call, decided at
 * enter (arguments) or at exit (ret, the enter held until then).
 *
 * Part of systrace.bpf.c, which includes it once, in order: not a header
 * of its own.
 */

/* The fields a filter program reads, by systrace_filter_field. */
struct filter_fields {
	__u64 v[16];
};

/* One run of a filter program: its fields, and its stack of booleans (bit
 * 0 is the top). */
struct filter_run {
	const struct systrace_filter *f;
	struct filter_fields fields;
	__u64 stack;
};

/* The field's 64 bits read as its C type (the compiler read the value so). */
static __always_inline __u64 extend(__u64 v, __u8 ext)
{
	switch (ext) {
	case SYSTRACE_EXT_U32:
		return (__u32)v;
	case SYSTRACE_EXT_S32:
		return (__u64)(__s64)(__s32)v;
	case SYSTRACE_EXT_U16:
		return (__u16)v;
	case SYSTRACE_EXT_S16:
		return (__u64)(__s64)(__s16)v;
	default:
		return v;
	}
}

/* One op: returns the stack after it. Global, so that the verifier checks
 * it once and the loop around it sees an unknown stack (not one state per
 * value the stack could take). */
__noinline __u64 filter_op(const struct systrace_filter_op *op, const struct filter_fields *fields,
			   __u64 stack)
{
	__u64 v, value, top;
	bool r;

	if (!op || !fields)
		return stack;
	switch (op->code) {
	case SYSTRACE_OP_PRED:
		v = extend(fields->v[op->field & 15], op->ext);
		value = op->value;
		if (op->cmp == SYSTRACE_CMP_BIT) {
			r = (v & value) != 0;
			break;
		}
		/* Signed order is unsigned order with the sign bit flipped. */
		if (op->ext == SYSTRACE_EXT_S64 || op->ext == SYSTRACE_EXT_S32 ||
		    op->ext == SYSTRACE_EXT_S16) {
			v ^= 1ULL << 63;
			value ^= 1ULL << 63;
		}
		switch (op->cmp) {
		case SYSTRACE_CMP_EQ:
			r = v == value;
			break;
		case SYSTRACE_CMP_NE:
			r = v != value;
			break;
		case SYSTRACE_CMP_LT:
			r = v < value;
			break;
		case SYSTRACE_CMP_LE:
			r = v <= value;
			break;
		case SYSTRACE_CMP_GT:
			r = v > value;
			break;
		default:
			r = v >= value;
		}
		break;
	case SYSTRACE_OP_TRUE:
		r = true;
		break;
	case SYSTRACE_OP_FALSE:
		r = false;
		break;
	case SYSTRACE_OP_NOT:
		return stack ^ 1;
	case SYSTRACE_OP_AND:
	case SYSTRACE_OP_OR:
		top = stack & 1;
		stack >>= 1;
		if (op->code == SYSTRACE_OP_AND)
			top &= stack;
		else
			top |= stack;
		return (stack & ~1ULL) | (top & 1);
	default:
		return stack;
	}
	return (stack << 1) | r;
}

static long filter_step(__u32 i, struct filter_run *run)
{
	if (i >= SYSTRACE_FILTER_OPS || i >= run->f->len)
		return 1; /* done */
	/* A mask the verifier sees: the compiler keeps a copy of i without
	 * the bound checked above. */
	barrier_var(i);
	run->stack =
		filter_op(&run->f->ops[i & (SYSTRACE_FILTER_OPS - 1)], &run->fields, run->stack);
	return 0;
}

/* Experiment switches (bench/filter_cost.py), set from
 * SYSTRACE_FILTER_EXPERIMENT at load: 1 evaluates every filter with
 * bpf_loop, 2 rejects without evaluating, 4 drops the exit of a call
 * decided at enter at once (without deciding again), 8 rejects before the
 * filter is looked up, 16 carries the enter's verdict to the exit in a
 * task-storage mark instead (as before the exit decided again), 32 keeps
 * no per-CPU verdict (every exit decides again). */
__u32 filter_experiment;

/* Per syscall number: when its exits were last not traced, stamped by user
 * space (CLOCK_MONOTONIC, bpf_ktime_get_ns()'s clock) as it sets the
 * syscall's filter while no session traces its exit, before it enables
 * it. Every exit delivered takes its thread's mark (filter_exit,
 * take_held_enter), so a mark older than that was left by a call whose
 * exit went by unseen: it is not the call this exit ends, and its enter
 * is never sent. A time rather than a clear at the calls in between: they
 * may not be traced at all, and calls no filter on ret decides pay
 * nothing for it. */
__u64 held_since[SYSTRACE_NR_SYSCALLS];

/* The syscalls some session filters, set by user space before it changes
 * their programs' filter, cleared after (the last filtering session gone).
 * Where the programs filter none of such a syscall's calls (another session
 * traces it unfiltered, or no slot was free), the sessions decide each call
 * from its enter: an exit whose enter the ring buffer lost is one no
 * filtering session can take or tell from a call begun before it, so the
 * lost enter is marked and its exit counted lost, as with a filter here. */
__u64 session_filtered[SYSTRACE_NR_SYSCALLS / 64];

/* Programs up to this long run unrolled, without bpf_loop(): most
 * filters are a comparison or two. */
#define FILTER_INLINE_OPS 8

/* Whether the call passes `f`. bpf_loop() has the verifier check a step
 * once, not once per op, for the longer programs. Global: checked once on
 * its own, not at each of the hooks' five calls (the library's per-syscall
 * enter 6,600 to 5,700 verified instructions). */
__noinline bool filter_evaluate(const struct systrace_filter *f, const struct call_args *args,
				long ret, __u32 nr, __u32 tid)
{
	struct filter_run run = { .f = f };
	__u32 len;

	if (!f || !args)
		return true;
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		run.fields.v[i] = args->v[i];
	run.fields.v[SYSTRACE_FIELD_RET] = ret;
	run.fields.v[SYSTRACE_FIELD_NR] = nr;
	run.fields.v[SYSTRACE_FIELD_PID] = tid;
	len = f->len;
	if (len <= FILTER_INLINE_OPS && !(filter_experiment & 1)) {
		for (int i = 0; i < FILTER_INLINE_OPS; i++) {
			if (i >= len)
				break;
			run.stack = filter_op(&f->ops[i], &run.fields, run.stack);
		}
		return run.stack & 1;
	}
	bpf_loop(SYSTRACE_FILTER_OPS, filter_step, &run, 0);
	return run.stack & 1;
}

static __always_inline bool filter_pass(const struct systrace_filter *f, const __u64 *args,
					long ret, __u32 nr, __u32 tid)
{
	return filter_evaluate(f, (const struct call_args *)args, ret, nr, tid);
}

/* Whether an exit of `nr` ends the call a mark of `enter_nr` began: the
 * same syscall, or a successful execveat, whose exit is reported as
 * execve's (told by the kinds of their filenames, as count_exit does).
 * Global: checked once, not at each caller. */
__noinline bool ends_call(__u32 enter_nr, __u32 nr)
{
	return enter_nr == nr || (capture_specs[nr & (SYSTRACE_NR_SYSCALLS - 1)].kind[0] ==
					  SYSTRACE_CAPTURE_EXEC_FILENAME &&
				  capture_specs[enter_nr & (SYSTRACE_NR_SYSCALLS - 1)].kind[1] ==
					  SYSTRACE_CAPTURE_EXEC_FILENAME);
}

/* Sends a held enter at its call's exit, with the time of its enter.
 * Global: the verifier checks it once, not at each exit that may send one
 * (filter_exit, take_held_enter). Its record is built in the scratch (free
 * until the exit's own record), not on the stack: the exit hook's deepest
 * chain of calls passes through here, and kernels that give a called
 * function no stack of its own refuse more than 512 bytes along it. */
__noinline int emit_held_enter(struct call_mark *mark, __u64 pid_tgid, __u32 root)
{
	__u32 zero = 0, nr;
	__u64 *ts;

	if (!mark)
		return 0;
	/* The enter's syscall and thread, not the exit's (they differ after an
	 * execveat, and an exec by a thread other than the first). */
	nr = mark->nr & (SYSTRACE_NR_SYSCALLS - 1);
	pid_tgid = (pid_tgid & ~0xffffffffULL) | mark->tid;
	if (test_bit(nr, capture_syscalls) && enter_captures(nr)) {
		/* The captures of a held call are read now, at its exit. */
		ts = bpf_map_lookup_elem(&held_ts, &zero);
		if (ts)
			*ts = mark->ts;
		return emit_enter(nr, mark->args, pid_tgid, root);
	}
	/* A timed record takes its enter's time. */
	return output_plain_enter(nr, (const struct call_args *)mark->args, mark->ts, pid_tgid,
				  root);
}

/* The thread's context switches so far. */
static __always_inline __u64 task_switches(void)
{
	struct task_struct *task = bpf_get_current_task_btf();

	return task->nvcsw + task->nivcsw;
}

/* The filter `f` at its call's enter: true to send the enter now. A call
 * decided at exit is held in the thread's mark instead. */
static __noinline bool filter_enter(const struct systrace_filter *f, __u32 nr, __u64 *args,
				    __u64 pid_tgid, __u32 root)
{
	struct call_mark *mark;
	bool pass;

	if (!f || !args)
		return true;
	if (f->mode != SYSTRACE_FILTER_AT_EXIT) {
		pass = !(filter_experiment & 2) && filter_pass(f, args, 0, nr, pid_tgid);
		if (!(filter_experiment & 48)) {
			__u32 zero = 0;
			struct enter_verdict *v = bpf_map_lookup_elem(&enter_verdicts, &zero);

			if (v) {
				v->tid = pid_tgid;
				v->nr = nr;
				v->switches = task_switches();
				v->pass = pass;
				v->lost = 0;
			}
		}
		if (filter_experiment & 16) {
			mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0,
						    BPF_LOCAL_STORAGE_GET_F_CREATE);
			if (mark) {
				mark->nr = nr;
				mark->state = pass ? CALL_PASSED : CALL_REJECTED;
			}
		}
		return pass;
	}
	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!mark) {
		/* Nowhere to hold it: the call is lost, and counted. */
		__sync_fetch_and_add(&filter_unheld, 1);
		count_drop(SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
		count_drop(SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
		return false;
	}
	mark->nr = nr;
	mark->tid = pid_tgid;
	mark->state = CALL_HELD;
	/* Always the time, whether records carry it or not: held_since is
	 * compared with it. */
	mark->ts = bpf_ktime_get_ns();
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		mark->args[i] = args[i];
	return false;
}

/* The exit of a call decided at enter, whose thread was switched out
 * since (or whose verdict another call's replaced), decides again: the
 * registers still hold the arguments the enter read (only an exec replaces them, and its
 * filters are AT_ENTER_ONLY), and the filter is the same or, while
 * sessions come and go, one that every remaining session's calls still
 * pass. So the verdict needs no per-call state: no task storage at enter,
 * where most filtered calls are rejected. The arguments past the
 * syscall's own read as 0, as the per-syscall enter hook reads them (a
 * filter names only the syscall's own). */
static __always_inline bool filter_exit_again(const struct systrace_filter *f, __u32 nr,
					      __u64 pid_tgid)
{
	__u64 args[SYSTRACE_MAX_ARGS];
	__u8 nb_args;

	if (filter_experiment & 2)
		return false;
	syscall_get_arguments((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), args);
	nb_args = syscall_nb_args[nr & (SYSTRACE_NR_SYSCALLS - 1)];
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		if (i >= nb_args)
			args[i] = 0;
	return filter_pass(f, args, 0, nr, pid_tgid);
}

/* The arguments of an exit whose enter no one saw: zeros, outside the
 * stack (on the exit hook's deepest chain of calls, see emit_held_enter).
 * Written by no one. */
__u64 no_args[SYSTRACE_MAX_ARGS];

/* filter_exit's verdicts: 0 (false) drops the exit, 1 (true) sends it, and
 * EXIT_SEND_HELD sends the call's held enter first. The caller sends that
 * enter: filter_exit calling emit_held_enter made the exit hook's deepest
 * chain of calls (with the enter's captures) longer than 512 bytes of
 * stack, which the kernels that give a called function no stack of its
 * own refuse. */
#define EXIT_SEND_HELD 2
/* The call's enter passed but was lost to a full ring buffer: the exit is
 * not sent, and counted lost (user space decides a filtered call from its
 * enter, and would drop the exit unseen by any count). */
#define EXIT_LOST 3

/* Whether the thread's mark says its call of `nr` lost its enter; takes
 * the mark. A mark older than the syscall's filter (held_since) is an
 * earlier call's whose exit went by unseen. Global: checked once, not at
 * each of filter_exit's uses in each exit hook. */
__noinline bool take_lost_mark(__u32 nr)
{
	struct call_mark *mark;

	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0, 0);
	if (!mark || mark->state != CALL_LOST)
		return false;
	mark->state = CALL_NONE;
	if (!ends_call(mark->nr, nr))
		return false;
	barrier_var(nr); /* a bound the verifier sees */
	return mark->ts >= held_since[nr & (SYSTRACE_NR_SYSCALLS - 1)];
}

/* The enter of a call a filter passed (or, `f` NULL, of a syscall the
 * programs do not filter but a session does) was lost to a full ring
 * buffer (and counted): marked so that its exit is counted lost too, not
 * sent. The per-CPU verdict says so to an exit that follows at once; the
 * thread's mark (task storage, created only here) to one after a switch.
 * Global: checked once. */
__noinline int enter_lost(const struct systrace_filter *f, __u32 nr, __u64 pid_tgid)
{
	struct enter_verdict *v;
	struct call_mark *mark;
	__u32 zero = 0;

	if (f && f->mode == SYSTRACE_FILTER_AT_EXIT)
		return 0; /* a held enter: its exit sends it, or counts both */
	v = bpf_map_lookup_elem(&enter_verdicts, &zero);
	if (v && v->tid == (__u32)pid_tgid && v->nr == nr)
		v->lost = 1;
	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!mark) {
		__sync_fetch_and_add(&filter_unheld, 1);
		return 0;
	}
	mark->nr = nr;
	mark->state = CALL_LOST;
	mark->ts = bpf_ktime_get_ns();
	return 0;
}

/* The filter `f` at its call's exit: true to send the exit, EXIT_SEND_HELD
 * to send the held enter and then the exit (a call decided at exit). */
static __noinline int filter_exit(const struct systrace_filter *f, __u32 nr, long ret,
				  __u64 pid_tgid)
{
	struct call_mark *mark;
	__u32 state = CALL_NONE;

	if (!f || nr >= SYSTRACE_NR_SYSCALLS)
		return true;
	if (f->mode == SYSTRACE_FILTER_AT_ENTER_ONLY)
		return take_lost_mark(nr) ? EXIT_LOST : true;
	if (f->mode == SYSTRACE_FILTER_AT_ENTER && !(filter_experiment & 16)) {
		__u32 zero = 0;
		struct enter_verdict *v = bpf_map_lookup_elem(&enter_verdicts, &zero);

		if (filter_experiment & 4)
			return false;
		if (v && v->tid == (__u32)pid_tgid && v->nr == nr && !(filter_experiment & 32) &&
		    v->switches == task_switches()) {
			v->tid = 0; /* used: another exit of this thread decides again */
			if (v->lost) {
				take_lost_mark(nr);
				return EXIT_LOST;
			}
			return v->pass;
		}
		if (take_lost_mark(nr))
			return EXIT_LOST;
		return filter_exit_again(f, nr, pid_tgid);
	}
	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0, 0);
	if (mark && ends_call(mark->nr, nr))
		state = mark->state;
	if (mark && state == CALL_HELD && mark->ts < held_since[nr & (SYSTRACE_NR_SYSCALLS - 1)])
		state = CALL_NONE; /* an earlier call's (see held_since) */
	if (mark)
		mark->state = CALL_NONE;
	if (state == CALL_REJECTED)
		return false;
	if (state == CALL_PASSED || f->mode == SYSTRACE_FILTER_AT_ENTER)
		return true;
	if (state == CALL_HELD) {
		if (!filter_pass(f, mark->args, ret, nr, pid_tgid))
			return false;
		if (test_bit(nr & (SYSTRACE_NR_SYSCALLS - 1), enabled_enter_syscalls))
			return EXIT_SEND_HELD;
		return true;
	}
	/* No enter held: the call began before its filter was set (not
	 * ours), unless nobody traces its enter, and the filter then names
	 * no argument. */
	if (test_bit(nr & (SYSTRACE_NR_SYSCALLS - 1), enabled_enter_syscalls))
		return false;
	return filter_pass(f, no_args, ret, nr, pid_tgid);
}

/* The syscalls that ever had a filter decided at exit, set by user space
 * before it publishes one, never cleared: only their calls can leave a
 * mark, and only their exits look one up. */
__u64 held_syscalls[SYSTRACE_NR_SYSCALLS / 64];

/* The exit of a call that no filter on ret decides now (none, or one
 * decided at enter): a mark its thread left is this call's enter, held
 * for a filter lifted since (sent now, before the exit, if the exit
 * passes), or an earlier call's whose exit went by unseen (see
 * held_since). Either way the mark is taken, so that no later exit sends
 * it as its own call's. */
static __noinline int take_held_enter(__u32 nr, bool pass, __u64 pid_tgid, __u32 root)
{
	struct call_mark *mark;

	if (nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0, 0);
	if (!mark || mark->state != CALL_HELD)
		return 0;
	mark->state = CALL_NONE;
	/* The same syscall only (not ends_call: an execveat held for a filter
	 * lifted before its exit is not sent). Calling it here spilled a
	 * register, 8 bytes more on the exit hook's deepest chain of calls;
	 * inlined, it cost the exit hook 400 more verified instructions. */
	if (pass && mark->nr == nr && mark->ts >= held_since[nr] &&
	    test_bit(nr, enabled_enter_syscalls))
		emit_held_enter(mark, pid_tgid, root);
	return 0;
}

/* An enter that no filter decided (none was set for its syscall): a verdict
 * this thread left on this CPU is an older call's, whose exit no filter
 * took either. Were a filter set before this call's exit, that verdict
 * would decide it: a read(9999) rejected before another session lifted the
 * filter dropped the exit of a read(z) after it was set again. */
static __always_inline void forget_verdict(__u64 pid_tgid)
{
	__u32 zero = 0;
	struct enter_verdict *v = bpf_map_lookup_elem(&enter_verdicts, &zero);

	if (v && v->tid == (__u32)pid_tgid)
		v->tid = 0;
}
