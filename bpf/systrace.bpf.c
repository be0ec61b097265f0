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
/* systrace's own process, and the address in it of its quiet slots
 * (SYSTRACE_QUIET_SLOTS thread ids of threads inside systrace). */
__u32 self_tgid;
__u64 quiet_addr;
/* Children of followed processes that could not be followed: traced_tgids
 * was full. Sessions that follow report them. */
__u64 untraced_forks;
/* Lost records that the drops map had no room to attribute. */
__u64 drops_unattributed;
/* Syscalls counted in the kernel (refcounted by user space like the
 * enable bits); nothing of them is delivered unless enabled too. */
__u64 counted_syscalls[BITMAP_WORDS];
/* Calls the counts map had no room for. */
__u64 counts_unattributed;
/* rt_sigreturn never exits (its exit reports -1): counted at its enter. */
__u32 sigreturn_nr = 0xffffffff;
/* Set when traced_tgids holds exactly this one process and none is added
 * by following forks: the filter is then one comparison. */
__u32 only_tgid;
/* Wake the consumer once this much is waiting; below it, the consumer's
 * own short poll timeout picks records up. Batching wake-ups is what keeps
 * tracing every syscall cheap. */
__u64 wakeup_bytes = 1;

/* Args per syscall number, from the metadata table; written by user space
 * before attaching (and corrected once the running kernel's own metadata
 * is read, which need not delay the first enable). 0xff marks a number
 * without metadata: its records carry all six args. */
__u8 syscall_nb_args[SYSTRACE_NR_SYSCALLS];

/* Syscalls whose records carry user memory, and what of each argument;
 * written by user space (the bitmap refcounted like the enable bits). */
__u64 capture_syscalls[BITMAP_WORDS];
struct systrace_capture_spec capture_specs[SYSTRACE_NR_SYSCALLS];
/* Bytes captured of one string or buffer at most (the user's -s). */
__u32 capture_size;
/* Sessions that follow forks; the fork program is attached only then. */
__u32 follow_forks;
/* Sessions that want thread exits: the exit program records them then
 * (it is attached while this or follow_forks is set). */
__u32 trace_task_exits;

/* Which hooks deliver: the raw_syscalls ones (every syscall runs them) or
 * the kernel's per-syscall events (a syscall nobody enabled costs only the
 * kernel's own bit test). User space attaches the new kind, flips
 * hook_mode, then detaches the old (see hooks_mine for the calls in flight). */
#define HOOKS_RAW 0
#define HOOKS_SYSCALL 1
__u32 hook_mode;
/* Nonzero (a generation) while both kinds are attached during a switch. */
__u32 handoff;
/* Calls of a switch whose probes could not agree through task storage
 * (it could not be allocated): each may be lost or doubled. */
__u64 handoff_unsure;

/* Dummy instances: they make libbpf-cargo emit the record types for Rust. */
struct systrace_enter_record _enter_record = {};
struct systrace_exit_record _exit_record = {};
struct systrace_capture_item _capture_item = {};
enum systrace_phase _phase = SYSTRACE_PHASE_ENTER;
enum systrace_capture_kind _capture_kind = SYSTRACE_CAPTURE_NONE;
enum systrace_capture_flags _capture_flags = SYSTRACE_CAPTURE_TRUNCATED;
enum systrace_tgid_flags _tgid_flags = SYSTRACE_TGID_TRACED;
enum systrace_capture_limits _capture_limits = SYSTRACE_MAX_CAPTURE;
struct systrace_tgid _tgid = {};
struct systrace_drop_key _drop_key = {};
enum systrace_quiet _quiet = SYSTRACE_QUIET_SLOTS;
struct systrace_count_key _count_key = {};
struct systrace_count _count = {};
struct systrace_signal_record _signal_record = {};
struct systrace_task_exit_record _task_exit_record = {};
enum systrace_signal_flags _signal_flags = SYSTRACE_SIGNAL_NO_INFO;
enum systrace_signal_limits _signal_limits = SYSTRACE_SIGINFO_WORDS;
enum systrace_count_limits _count_limits = SYSTRACE_HIST_BUCKETS;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* user space sets the size before load */
} events SEC(".maps");

/* tgid -> systrace_tgid. Allocated as used: room for large process trees
 * without reserving it up front. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 18);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct systrace_tgid);
} traced_tgids SEC(".maps");

/* Records lost to a full ring buffer, by what they were (process, its
 * registered ancestor, syscall, phase), so that each session counts its own. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct systrace_drop_key);
	__type(value, __u64);
} dropped SEC(".maps");

/* Counted calls by (process, registered ancestor, syscall); per CPU, so
 * that counting needs no atomic operation. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct systrace_count_key);
	__type(value, struct systrace_count);
} counts SEC(".maps");

/* Failed counted calls by (process, ancestor, syscall, errno). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 1 << 16);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct systrace_count_key);
	__type(value, __u64);
} errnos SEC(".maps");

/* When the counted call a thread is in began. */
struct start {
	__u32 nr;
	__u64 ts;
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct start);
} starts SEC(".maps");

/* Records with captured memory are built here, then copied into the ring
 * buffer at their real size. Offsets into it are masked with SCRATCH_MASK so
 * the verifier can see every access stays inside. */
#define SCRATCH_SIZE 32768
#define SCRATCH_MASK (SCRATCH_SIZE / 2 - 1)
#define CAPTURE_END                                                                   \
	(sizeof(struct systrace_exit_record) + sizeof(struct systrace_enter_record) + \
	 SYSTRACE_CAPTURE_BUDGET)
struct scratch {
	__u8 buf[SCRATCH_SIZE];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/* A call whose capture is not done at enter: read's data, or a string or
 * buffer that was not in memory yet (its page not faulted in), read again
 * at exit, once the kernel has faulted it in. */
struct pending_call {
	__s32 nr;
	__u32 retry_mask; /* args to read again at exit */
	__u64 args[SYSTRACE_MAX_ARGS];
};
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	/* Threads in a call whose capture finishes at exit, at once. Past it
	 * the oldest is evicted, and its exit says its capture was lost. */
	__uint(max_entries, 16384);
	__type(key, __u32); /* tid */
	__type(value, struct pending_call);
} pending_calls SEC(".maps");

/* Syscalls with an event filter in the filters map (see systrace.h): the
 * hooks of the others never look it up. User space sets a bit after its
 * filter is in the map and clears it before removing the filter. */
__u64 filtered_syscalls[BITMAP_WORDS];
/* Calls whose enter could not be held for a filter decided at exit (no
 * memory for the thread's mark): both records are counted as dropped. */
__u64 filter_unheld;

struct systrace_filter _filter = {};
enum systrace_filter_limits _filter_limits = SYSTRACE_FILTER_OPS;
enum systrace_filter_code _filter_code = SYSTRACE_OP_PRED;
enum systrace_filter_field _filter_field = SYSTRACE_FIELD_RET;
enum systrace_filter_cmp _filter_cmp = SYSTRACE_CMP_EQ;
enum systrace_filter_ext _filter_ext = SYSTRACE_EXT_U64;
enum systrace_filter_mode _filter_mode = SYSTRACE_FILTER_AT_ENTER;

/* Syscall number -> its filter. A hash, not an array: user space replaces
 * a filter as a whole, and a program never sees half of one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYSTRACE_NR_SYSCALLS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct systrace_filter);
} filters SEC(".maps");

/* A thread's call in a filtered syscall: rejected at its enter (its exit
 * is dropped too), or held until its exit decides. Task storage rather
 * than an LRU hash: a mark is never evicted, only freed with its thread. */
enum call_state {
	CALL_NONE = 0,
	CALL_REJECTED = 1,
	CALL_HELD = 2,
};
struct call_mark {
	__u32 nr;
	__u32 state; /* enum call_state */
	__u64 ts; /* the held enter's time */
	__u64 args[SYSTRACE_MAX_ARGS];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_mark);
} call_marks SEC(".maps");

/* The timestamp a held enter, sent at its call's exit, must carry instead
 * of the time it is written (per CPU: set and used by one program run). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} held_ts SEC(".maps");

/* During a switch of hooks, per thread and phase: what the first probe of
 * a call decided, for the call's other probe. Both kinds hang off the same
 * raw tracepoint, in an order we do not know, and hook_mode may flip
 * between them: the second probe must follow the first, or the call would
 * be delivered twice or not at all. */
struct handoff_state {
	__u32 gen[2];
	__u8 pending[2];
	__u8 kind[2];
	__u8 decision[2];
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct handoff_state);
} handoffs SEC(".maps");

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

/* One counted call (dur_ns: U64_MAX for rt_sigreturn, counted at enter). */
static __noinline void count_call(__u32 nr, long ret, __u64 dur_ns, __u64 pid_tgid, __u32 root)
{
	struct systrace_count_key key = { .tgid = pid_tgid >> 32, .root = root, .nr = nr };
	struct systrace_count *c, zero = {};

	c = bpf_map_lookup_elem(&counts, &key);
	if (!c) {
		bpf_map_update_elem(&counts, &key, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&counts, &key);
		if (!c) {
			__sync_fetch_and_add(&counts_unattributed, 1);
			return;
		}
	}
	c->calls++;
	if (dur_ns != (__u64)-1) {
		c->total_ns += dur_ns;
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
		if (n)
			*n += 1;
		else if (bpf_map_update_elem(&errnos, &key, &one, BPF_NOEXIST) < 0)
			__sync_fetch_and_add(&counts_unattributed, 1);
	}
}

/* A counted call begins: remember when, for its exit. */
static __always_inline void count_enter(__u32 nr, __u64 pid_tgid, __u32 root)
{
	struct start *st;

	if (nr == sigreturn_nr) { /* no exit will come */
		count_call(nr, 0, (__u64)-1, pid_tgid, root);
		return;
	}
	st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (st) {
		st->nr = nr;
		st->ts = bpf_ktime_get_ns();
	}
}

/* A counted call returns. A call whose enter was not seen (running when
 * the counting began, e.g. the read a launched command waits in before its
 * execve) is not counted: it is not the session's. */
static __always_inline void count_exit(__u32 nr, long ret, __u64 pid_tgid, __u32 root)
{
	struct start *st = bpf_task_storage_get(&starts, bpf_get_current_task_btf(), 0, 0);
	__u64 dur;

	if (!st || st->nr != nr || !st->ts)
		return;
	dur = bpf_ktime_get_ns() - st->ts;
	st->ts = 0;
	count_call(nr, ret, dur, pid_tgid, root);
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

static __always_inline __u64 submit_flags(void)
{
	return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									       BPF_RB_NO_WAKEUP;
}

static __always_inline void fill_header(struct systrace_header *hdr, __u64 pid_tgid, __u32 root,
					__u8 phase, __u8 nb_args)
{
	hdr->timestamp_ns = bpf_ktime_get_ns();
	hdr->tgid = pid_tgid >> 32;
	hdr->root = root;
	hdr->cpu = bpf_get_smp_processor_id();
	hdr->phase = phase;
	hdr->nb_args = nb_args;
	/* A direct read of current->comm: cheaper than bpf_get_current_comm(). */
	__builtin_memcpy(hdr->comm, bpf_get_current_task_btf()->comm, sizeof(hdr->comm));
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

/* args[i] with a bound the verifier can see. */
static __always_inline __u64 arg_at(const __u64 *args, __u8 i)
{
	switch (i) {
	case 0:
		return args[0];
	case 1:
		return args[1];
	case 2:
		return args[2];
	case 3:
		return args[3];
	case 4:
		return args[4];
	default:
		return args[5];
	}
}

static __always_inline __u32 capture_limit(void)
{
	__u32 size = capture_size;

	return size > SYSTRACE_MAX_CAPTURE ? SYSTRACE_MAX_CAPTURE : size;
}

/* A held enter sent at its exit keeps the time of its enter. */
static __always_inline void use_held_ts(struct systrace_header *hdr)
{
	__u32 zero = 0;
	__u64 *ts = bpf_map_lookup_elem(&held_ts, &zero);

	if (ts && *ts) {
		hdr->timestamp_ns = *ts;
		*ts = 0;
	}
}

/* The capture functions are global (not static) so that the verifier checks
 * each once, on its own, instead of once per path through every caller:
 * argv's loop would otherwise exceed its complexity limit. */

/* BPF functions take five arguments at most: the arg index and the item
 * flags travel together. */
#define ARG_FLAGS(arg, flags) ((arg) | ((flags) << 8))

/* Room past the budget for the empty items that say an argument was not
 * captured (one per argument at most, and the header of the last item). */
#define MARKS_ROOM ((SYSTRACE_MAX_ARGS + 1) * sizeof(struct systrace_capture_item))

/* In capture_buffer's arg_flags: a structure, bounded by the record's
 * budget only (the capture size is for strings and data). */
#define ARG_STRUCT (1 << 16)

/* Bytes one more item may hold: the capture size (for a structure, one
 * item's most), within what is left of the record's budget (a capture
 * never goes past it). */
static __always_inline __u32 room_for(__u32 off, bool whole)
{
	__u32 limit = whole ? SYSTRACE_MAX_CAPTURE : capture_limit();
	__u32 left = off < CAPTURE_END ? CAPTURE_END - off : 0;

	if (left < limit)
		limit = left;
	/* A mask the verifier sees (the value is at most MAX_CAPTURE): the
	 * compiler would otherwise give it a copy without bounds. */
	barrier_var(limit);
	return limit & (2 * SYSTRACE_MAX_CAPTURE - 1);
}

/* An empty item with `flags`: the argument's memory is not in the record
 * (over the record's budget, or lost), which user space must say. */
__noinline __u32 capture_mark(struct scratch *s, __u32 off, __u32 arg_flags, __u32 flags)
{
	struct systrace_capture_item *item;

	if (!s || off > CAPTURE_END + MARKS_ROOM)
		return off;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = (arg_flags >> 8) | flags;
	item->len = 0;
	return off + sizeof(*item);
}

/* Appends a NUL-terminated user string as an item at `off`; returns the
 * offset after it. */
__noinline __u32 capture_string(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr)
{
	struct systrace_capture_item *item;
	__u32 limit;
	long n;

	if (!s)
		return off;
	if (off >= CAPTURE_END) /* over the record's budget: say it was cut */
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_TRUNCATED);
	limit = room_for(off, false);
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	/* Read one byte more than we keep, to tell a cut string from one that fits. */
	n = bpf_probe_read_user_str(&s->buf[off + sizeof(*item)], limit + 2, (const void *)ptr);
	item->arg = arg_flags & 0xff;
	item->flags = arg_flags >> 8;
	if (n <= 0) {
		item->flags |= SYSTRACE_CAPTURE_FAULTED;
		item->len = 0;
	} else if (n - 1 > limit) {
		item->flags |= SYSTRACE_CAPTURE_TRUNCATED;
		item->len = limit;
	} else {
		item->len = n - 1;
	}
	return off + sizeof(*item) + item->len;
}

/* Appends `len` bytes of user memory (at most the capture size, or for
 * ARG_STRUCT at most one item's). */
__noinline __u32 capture_buffer(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr, __u64 len)
{
	struct systrace_capture_item *item;
	__u32 limit, n;

	if (!s)
		return off;
	if (off >= CAPTURE_END) /* over the record's budget: say it was cut */
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_TRUNCATED);
	limit = room_for(off, arg_flags & ARG_STRUCT);
	n = len > limit ? limit : len;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = ((arg_flags >> 8) & 0xff) | (len > limit ? SYSTRACE_CAPTURE_TRUNCATED : 0);
	if (n > SYSTRACE_MAX_CAPTURE)
		n = SYSTRACE_MAX_CAPTURE;
	if (bpf_probe_read_user(&s->buf[off + sizeof(*item)], n, (const void *)ptr) < 0) {
		item->flags |= SYSTRACE_CAPTURE_FAULTED;
		n = 0;
	}
	item->len = n;
	return off + sizeof(*item) + n;
}

static __always_inline bool item_faulted(struct scratch *s, __u32 off)
{
	struct systrace_capture_item *item = (void *)&s->buf[off & SCRATCH_MASK];

	return off <= CAPTURE_END && (item->flags & SYSTRACE_CAPTURE_FAULTED);
}

struct argv_walk {
	struct scratch *s;
	__u64 argv;
	__u32 off;
	__u32 arg;
	bool done;
};

static long capture_argv_elem(__u32 j, struct argv_walk *walk)
{
	__u64 elem = 0;

	if (bpf_probe_read_user(&elem, sizeof(elem), (const void *)(walk->argv + 8 * j)) < 0 ||
	    !elem) {
		walk->done = true;
		return 1; /* stop */
	}
	if (walk->off >= CAPTURE_END)
		return 1; /* over the budget: the list is cut (marked below) */
	walk->off = capture_string(walk->s, walk->off,
				   ARG_FLAGS(walk->arg, SYSTRACE_CAPTURE_ARGV_ELEM), elem);
	return 0;
}

/* bpf_loop() has the verifier check the loop body once, not once per
 * element (unrolled, argv alone cost it ~100 ms at every load). */
static __always_inline __u32 capture_argv(struct scratch *s, __u32 off, __u32 arg, __u64 argv)
{
	struct argv_walk walk = { .s = s, .argv = argv, .off = off, .arg = arg };

	bpf_loop(SYSTRACE_MAX_ARGV, capture_argv_elem, &walk, 0);
	if (walk.done)
		return walk.off;
	/* More elements than we keep: an empty item says the list was cut. */
	return capture_mark(s, walk.off, ARG_FLAGS(arg, SYSTRACE_CAPTURE_ARGV_ELEM),
			    SYSTRACE_CAPTURE_TRUNCATED);
}

/* A count as an item of 4 bytes; over SYSTRACE_MAX_COUNT it is cut. */
__noinline __u32 capture_count(struct scratch *s, __u32 off, __u32 arg_flags, __u32 count)
{
	struct systrace_capture_item *item;

	if (!s || off > CAPTURE_END + MARKS_ROOM)
		return off;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = (arg_flags >> 8) & 0xff;
	item->len = sizeof(count);
	__builtin_memcpy(&s->buf[off + sizeof(*item)], &count, sizeof(count));
	return off + sizeof(*item) + sizeof(count);
}

struct count_walk {
	__u64 ptr;
	__u64 len; /* DIRENT_COUNT: bytes of records */
	__u64 pos;
	__u32 n;
	bool done;
	bool faulted;
};

static long count_ptr(__u32 j, struct count_walk *w)
{
	__u64 elem = 0;

	if (bpf_probe_read_user(&elem, sizeof(elem), (const void *)(w->ptr + 8 * j)) < 0) {
		w->faulted = true;
		return 1;
	}
	if (!elem) {
		w->done = true;
		return 1;
	}
	w->n++;
	return 0;
}

/* Each linux_dirent64 says its length (d_reclen, at offset 16). */
static long count_dirent(__u32 j, struct count_walk *w)
{
	__u16 reclen = 0;

	if (w->pos >= w->len) {
		w->done = true;
		return 1;
	}
	if (bpf_probe_read_user(&reclen, sizeof(reclen), (const void *)(w->ptr + w->pos + 16)) <
		    0 ||
	    !reclen) {
		w->faulted = true;
		return 1;
	}
	w->pos += reclen;
	w->n++;
	return 0;
}

/* An item with the count of what `ptr` holds: pointers (len 0) or the
 * records of `len` bytes; flagged FAULTED or TRUNCATED as a capture is.
 * Global, so that the verifier checks its loop once, not once per path of
 * the exit's per-argument loop. */
__noinline __u32 capture_counted(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr,
				 __u64 len)
{
	struct count_walk w = { .ptr = ptr, .len = len };

	if (len)
		bpf_loop(SYSTRACE_MAX_COUNT, count_dirent, &w, 0);
	else
		bpf_loop(SYSTRACE_MAX_COUNT, count_ptr, &w, 0);
	if (w.faulted)
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_FAULTED);
	if (!w.done)
		arg_flags |= SYSTRACE_CAPTURE_TRUNCATED << 8;
	return capture_count(s, off, arg_flags, w.n);
}

static __always_inline int output(struct scratch *s, __u32 size, __u32 phase, __u32 nr,
				  __u64 pid_tgid, __u32 root)
{
	/* Every record fits (CAPTURE_END + one item < SCRATCH_SIZE): the mask
	 * changes nothing but shows the verifier the bound. */
	barrier_var(size);
	size &= SCRATCH_SIZE - 1;
	if (bpf_ringbuf_output(&events, s->buf, size, submit_flags()) < 0)
		count_drop(phase, nr, pid_tgid, root);
	return 0;
}

static __noinline int emit_enter_captured(__u32 nr, __u64 *args, __u32 nb_args, __u64 pid_tgid,
					  __u32 root)
{
	struct pending_call pending = { .nr = nr };
	struct systrace_enter_record *rec;
	struct systrace_capture_spec *spec;
	__u32 zero = 0, tid = pid_tgid;
	bool at_exit = false;
	struct scratch *s;
	__u32 off;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	rec = (void *)s->buf;
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_ENTER, nb_args);
	use_held_ts(&rec->hdr);
	fill_entry(&rec->trace.ent, pid_tgid);
	rec->trace.nr = nr;
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++) {
		rec->trace.args[i] = args[i];
		pending.args[i] = args[i];
	}
	off = ENTER_RECORD_SIZE(nb_args & 7);
	spec = &capture_specs[nr];
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++) {
		__u8 kind;

		if (i >= nb_args)
			break;
		kind = spec->kind[i];
		if (kind == SYSTRACE_CAPTURE_STRING || kind == SYSTRACE_CAPTURE_STRING_NO_RETRY) {
			__u32 start = off;

			off = capture_string(s, off, ARG_FLAGS(i, 0), args[i]);
			if (kind == SYSTRACE_CAPTURE_STRING && item_faulted(s, start)) {
				pending.retry_mask |= 1 << i;
				at_exit = true;
			}
		} else if (kind == SYSTRACE_CAPTURE_BUFFER) {
			__u32 start = off;

			off = capture_buffer(s, off, ARG_FLAGS(i, 0), args[i],
					     arg_at(args, spec->len_arg[i]));
			if (item_faulted(s, start)) {
				pending.retry_mask |= 1 << i;
				at_exit = true;
			}
		} else if (kind == SYSTRACE_CAPTURE_ARGV) {
			off = capture_argv(s, off, i, args[i]);
		} else if (kind == SYSTRACE_CAPTURE_STRUCT ||
			   kind == SYSTRACE_CAPTURE_INOUT_STRUCT) {
			if (args[i])
				off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						     spec->size[i]);
			at_exit |= kind == SYSTRACE_CAPTURE_INOUT_STRUCT;
		} else if (kind == SYSTRACE_CAPTURE_ARRAY) {
			if (args[i])
				off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						     spec->size[i] *
							     (__u32)arg_at(args, spec->len_arg[i]));
			at_exit = true;
		} else if (kind == SYSTRACE_CAPTURE_PTR_COUNT) {
			if (args[i])
				off = capture_counted(s, off, ARG_FLAGS(i, 0), args[i], 0);
		} else if (kind == SYSTRACE_CAPTURE_EXIT_BUFFER ||
			   kind == SYSTRACE_CAPTURE_EXIT_STRUCT ||
			   kind == SYSTRACE_CAPTURE_EXIT_ARRAY ||
			   kind == SYSTRACE_CAPTURE_DIRENT_COUNT) {
			at_exit = true;
		}
	}
	if (at_exit)
		bpf_map_update_elem(&pending_calls, &tid, &pending, BPF_ANY);
	return output(s, off, SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
}

/* A kind read at the exit of a call that returned `ret`. */
static __always_inline bool at_exit_kind(__u8 kind, long ret)
{
	if (kind == SYSTRACE_CAPTURE_EXIT_BUFFER || kind == SYSTRACE_CAPTURE_EXIT_ARRAY ||
	    kind == SYSTRACE_CAPTURE_DIRENT_COUNT)
		return ret > 0;
	return ret >= 0 &&
	       (kind == SYSTRACE_CAPTURE_EXIT_STRUCT || kind == SYSTRACE_CAPTURE_INOUT_STRUCT ||
		kind == SYSTRACE_CAPTURE_ARRAY);
}

static __noinline int emit_exit_captured(__u32 nr, long ret, __u64 pid_tgid, __u32 root)
{
	struct systrace_exit_record *rec;
	struct systrace_capture_spec *spec;
	struct pending_call *pending;
	__u32 zero = 0, tid = pid_tgid;
	struct scratch *s;
	__u32 off;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	rec = (void *)s->buf;
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_EXIT, 0);
	fill_entry(&rec->trace.ent, pid_tgid);
	rec->trace.nr = nr;
	rec->trace.ret = ret;
	off = sizeof(*rec);
	pending = bpf_map_lookup_elem(&pending_calls, &tid);
	if (!pending || pending->nr != nr) {
		/* Data read at exit (read's) needs the enter's pointer: without
		 * it (pending_calls was full), say the capture was lost. */
		spec = &capture_specs[nr];
		for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
			if (at_exit_kind(spec->kind[i], ret))
				off = capture_mark(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						   SYSTRACE_CAPTURE_LOST);
	} else {
		spec = &capture_specs[nr];
		for (int i = 0; i < SYSTRACE_MAX_ARGS; i++) {
			__u8 kind = spec->kind[i];
			__u64 ptr = pending->args[i];
			__u32 arg_struct = ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) | ARG_STRUCT;

			if (kind == SYSTRACE_CAPTURE_EXIT_BUFFER && ret > 0)
				off = capture_buffer(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						     ptr, ret);
			else if ((kind == SYSTRACE_CAPTURE_EXIT_STRUCT ||
				  kind == SYSTRACE_CAPTURE_INOUT_STRUCT) &&
				 ret >= 0 && ptr)
				off = capture_buffer(s, off, arg_struct, ptr, spec->size[i]);
			else if (kind == SYSTRACE_CAPTURE_ARRAY && ret >= 0 && ptr)
				off = capture_buffer(
					s, off, arg_struct, ptr,
					spec->size[i] *
						(__u32)arg_at(pending->args, spec->len_arg[i]));
			else if (kind == SYSTRACE_CAPTURE_DIRENT_COUNT && ret > 0 && ptr)
				off = capture_counted(
					s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT), ptr, ret);
			else if (kind == SYSTRACE_CAPTURE_EXIT_ARRAY && ret > 0 && ptr)
				off = capture_buffer(s, off, arg_struct, ptr,
						     spec->size[i] * (__u32)ret);
			else if ((pending->retry_mask & (1 << i)) &&
				 kind == SYSTRACE_CAPTURE_BUFFER)
				off = capture_buffer(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						     pending->args[i],
						     arg_at(pending->args, spec->len_arg[i]));
			else if (pending->retry_mask & (1 << i))
				off = capture_string(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						     pending->args[i]);
		}
	}
	if (pending)
		bpf_map_delete_elem(&pending_calls, &tid);
	return output(s, off, SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
}

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
		bpf_ringbuf_submit(rec, submit_flags());                         \
		return 0;                                                        \
	}

/* Writes the enter record of a call. */
static __always_inline int emit_enter(long id, __u64 *args, __u64 pid_tgid, __u32 root)
{
	struct systrace_enter_record *rec;
	__u8 nb_args = syscall_nb_args[id];

	if (test_bit(id, capture_syscalls))
		return emit_enter_captured(
			id, args, nb_args > SYSTRACE_MAX_ARGS ? SYSTRACE_MAX_ARGS : nb_args,
			pid_tgid, root);
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
	count_drop(SYSTRACE_PHASE_ENTER, id, pid_tgid, root);
	return 0;
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
	bpf_ringbuf_submit(rec, submit_flags());
	return 0;
}

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

/* Whether the call passes `f`. bpf_loop() has the verifier check a step
 * once, not once per op. */
static __noinline bool filter_pass(const struct systrace_filter *f, const __u64 *args, long ret,
				   __u32 nr, __u32 tid)
{
	struct filter_run run = { .f = f };

	if (!f || !args)
		return true;
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		run.fields.v[i] = args[i];
	run.fields.v[SYSTRACE_FIELD_RET] = ret;
	run.fields.v[SYSTRACE_FIELD_NR] = nr;
	run.fields.v[SYSTRACE_FIELD_PID] = tid;
	bpf_loop(SYSTRACE_FILTER_OPS, filter_step, &run, 0);
	return run.stack & 1;
}

/* Sends a held enter at its call's exit, with the time of its enter. */
static __noinline int emit_held_enter(__u32 nr, struct call_mark *mark, __u64 pid_tgid, __u32 root)
{
	__u64 args[SYSTRACE_MAX_ARGS];
	__u32 zero = 0;
	__u64 *ts;

	if (!mark || nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	barrier_var(nr); /* a bound the verifier sees in every copy of nr */
	nr &= SYSTRACE_NR_SYSCALLS - 1;
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		args[i] = mark->args[i];
	if (test_bit(nr, capture_syscalls)) {
		/* The captures of a held call are read now, at its exit. */
		ts = bpf_map_lookup_elem(&held_ts, &zero);
		if (ts)
			*ts = mark->ts;
		return emit_enter(nr, args, pid_tgid, root);
	} else {
		struct systrace_enter_record rec = {};
		__u8 nb_args = syscall_nb_args[nr];

		if (nb_args > SYSTRACE_MAX_ARGS)
			nb_args = SYSTRACE_MAX_ARGS;
		fill_header(&rec.hdr, pid_tgid, root, SYSTRACE_PHASE_ENTER, nb_args);
		rec.hdr.timestamp_ns = mark->ts;
		fill_entry(&rec.trace.ent, pid_tgid);
		rec.trace.nr = nr;
		for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
			rec.trace.args[i] = args[i];
		if (bpf_ringbuf_output(&events, &rec, ENTER_RECORD_SIZE(nb_args), submit_flags()) <
		    0)
			count_drop(SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
	}
	return 0;
}

/* The filter at a filtered call's enter: true to send the enter now. A
 * call decided at enter marks its thread when rejected, so that its exit
 * is dropped too; one decided at exit is held in the mark. */
static __noinline bool filter_enter(__u32 nr, __u64 *args, __u64 pid_tgid, __u32 root)
{
	const struct systrace_filter *f = bpf_map_lookup_elem(&filters, &nr);
	struct call_mark *mark;
	bool pass;

	if (!f || !args)
		return true;
	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0,
				    BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (f->mode == SYSTRACE_FILTER_AT_EXIT) {
		if (!mark) {
			/* Nowhere to hold it: the call is lost, and counted. */
			__sync_fetch_and_add(&filter_unheld, 1);
			count_drop(SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
			count_drop(SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
			return false;
		}
		mark->nr = nr;
		mark->state = CALL_HELD;
		mark->ts = bpf_ktime_get_ns();
		for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
			mark->args[i] = args[i];
		return false;
	}
	pass = filter_pass(f, args, 0, nr, pid_tgid);
	/* Without a mark a rejected call's exit goes through; user space,
	 * which applies each session's filter again, drops it. */
	if (mark) {
		mark->nr = nr;
		mark->state = pass ? CALL_NONE : CALL_REJECTED;
	}
	return pass;
}

/* The filter at a filtered call's exit: true to send the exit (after the
 * held enter, for a call decided at exit). */
static __noinline bool filter_exit(__u32 nr, long ret, __u64 pid_tgid, __u32 root)
{
	const struct systrace_filter *f = bpf_map_lookup_elem(&filters, &nr);
	__u64 no_args[SYSTRACE_MAX_ARGS] = {};
	struct call_mark *mark;
	__u32 state = CALL_NONE;

	if (!f || nr >= SYSTRACE_NR_SYSCALLS)
		return true;
	mark = bpf_task_storage_get(&call_marks, bpf_get_current_task_btf(), 0, 0);
	if (mark && mark->nr == nr)
		state = mark->state;
	if (mark)
		mark->state = CALL_NONE;
	if (f->mode == SYSTRACE_FILTER_AT_ENTER)
		return state != CALL_REJECTED;
	if (state == CALL_HELD) {
		if (!filter_pass(f, mark->args, ret, nr, pid_tgid))
			return false;
		if (test_bit(nr & (SYSTRACE_NR_SYSCALLS - 1), enabled_enter_syscalls))
			emit_held_enter(nr, mark, pid_tgid, root);
		return true;
	}
	/* No enter held: the call began before its filter was set (not
	 * ours), unless nobody traces its enter, and the filter then names
	 * no argument. */
	if (test_bit(nr & (SYSTRACE_NR_SYSCALLS - 1), enabled_enter_syscalls))
		return false;
	return filter_pass(f, no_args, ret, nr, pid_tgid);
}

/* Deliver the enter of a wanted call whose arguments are read: every enter
 * hook ends here, whatever tracepoint it is attached to. */
static __always_inline int deliver_enter(long id, __u64 *args, __u64 pid_tgid, __u32 root)
{
	if (test_bit(id, filtered_syscalls) && !filter_enter(id, args, pid_tgid, root))
		return 0;
	return emit_enter(id, args, pid_tgid, root);
}

/* Deliver the exit of a wanted call: every exit hook ends here. */
static __always_inline int deliver_exit(long nr, long ret, __u64 pid_tgid, __u32 root)
{
	if (test_bit(nr, filtered_syscalls) && !filter_exit(nr, ret, pid_tgid, root))
		return 0;
	return emit_exit(nr, ret, pid_tgid, root);
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
	if (want & WANT_COUNT)
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
	if (want & WANT_COUNT)
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
	__u8 nb_args;
	int want;

	want = wanted(id, enabled_enter_syscalls, &pid_tgid, &root, false);
	if (!want || !hooks_mine(HOOKS_SYSCALL, HOOK_ENTER))
		return 0;
	if (want & WANT_COUNT)
		count_enter(id, pid_tgid, root);
	if (!(want & WANT_DELIVER))
		return 0;
	/* Only nb_args are in the record, and the kernel refuses to attach a
	 * program whose direct ctx reads go past the shortest event's fields
	 * (max_ctx_offset): read them with a helper; the rest reads as 0. */
	__builtin_memset(args, 0, sizeof(args));
	nb_args = syscall_nb_args[id & (SYSTRACE_NR_SYSCALLS - 1)];
	if (nb_args > SYSTRACE_MAX_ARGS)
		nb_args = SYSTRACE_MAX_ARGS;
	if (nb_args)
		bpf_probe_read_kernel(args, nb_args * sizeof(__u64), (void *)ctx->args);
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
	if (want & WANT_COUNT)
		count_exit(nr, ctx->ret, pid_tgid, root);
	if (!(want & WANT_DELIVER))
		return 0;
	return deliver_exit(nr, ctx->ret, pid_tgid, root);
}

/* A traced process that is followed forked: trace the child from its first
 * syscall, as a descendant of the parent's registered ancestor, so that the
 * sessions following that ancestor take its events (no record is needed:
 * each event carries its root). */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
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

	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are not pointers. */
	if ((unsigned long)info <= 1 || bpf_probe_read_kernel(&raw, sizeof(raw), info) < 0)
		flags |= SYSTRACE_SIGNAL_NO_INFO;
	if (ka)
		bpf_probe_read_kernel(&handler, sizeof(handler), &ka->sa.sa_handler);
	rec = bpf_ringbuf_reserve(&events, sizeof(*rec), 0);
	if (!rec) {
		count_drop(SYSTRACE_PHASE_SIGNAL, sig, pid_tgid, root);
		return;
	}
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_SIGNAL, 0);
	/* The thread's name, not the current one's (the sender's). */
	__builtin_memcpy(rec->hdr.comm, task->comm, sizeof(rec->hdr.comm));
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
SEC("tp_btf/signal_deliver")
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
 * its siginfo: what strace shows before `+++ killed by SIGTERM +++`. */
SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	struct signal_struct *signal = task->signal;
	__u64 pid_tgid;
	__u32 root;

	if (result != SYSTRACE_TRACE_SIGNAL_DELIVERED || sig == 9 /* SIGKILL: never shown */)
		return 0;
	/* This signal started the group exit: a later one would have been
	 * dropped (its result not DELIVERED). */
	if (!(signal->flags & SYSTRACE_SIGNAL_GROUP_EXIT) || signal->group_exit_code != sig)
		return 0;
	pid_tgid = (__u64)task->tgid << 32 | (__u32)task->pid;
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
	rec->task.exit_code = task->exit_code;
	rec->task.group_dead = group_dead;
	/* Wake the consumer: a process's end is what its user waits for. */
	bpf_ringbuf_submit(rec, BPF_RB_FORCE_WAKEUP);
}

/* A thread exits (in do_exit, as the exiting task, its exit_code set).
 * Records it for the sessions that want thread exits; and once the last
 * thread of a process found by following exits, forgets the process, so
 * the filter map does not fill with dead processes over a long trace
 * (after recording: its last exit is still the session's). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct systrace_tgid *entry;
	/* do_exit() counted the thread out of signal->live before this. */
	bool group_dead = task->signal->live.counter == 0;

	if (trace_task_exits)
		emit_task_exit(task, group_dead);
	if (!group_dead || !follow_forks)
		return 0;
	entry = bpf_map_lookup_elem(&traced_tgids, &tgid);
	if (entry && (entry->flags & SYSTRACE_TGID_DISCOVERED))
		bpf_map_delete_elem(&traced_tgids, &tgid);
	return 0;
}
