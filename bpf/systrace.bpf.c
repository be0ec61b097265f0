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

/* The capture functions are global (not static) so that the verifier checks
 * each once, on its own, instead of once per path through every caller:
 * argv's loop would otherwise exceed its complexity limit. */

/* BPF functions take five arguments at most: the arg index and the item
 * flags travel together. */
#define ARG_FLAGS(arg, flags) ((arg) | ((flags) << 8))

/* Room past the budget for the empty items that say an argument was not
 * captured (one per argument at most, and the header of the last item). */
#define MARKS_ROOM ((SYSTRACE_MAX_ARGS + 1) * sizeof(struct systrace_capture_item))

/* Bytes one more item may hold: the capture size, within what is left of
 * the record's budget (a capture never goes past it). */
static __always_inline __u32 room_for(__u32 off)
{
	__u32 limit = capture_limit();
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
	limit = room_for(off);
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

/* Appends `len` bytes of user memory (at most the capture size). */
__noinline __u32 capture_buffer(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr, __u64 len)
{
	struct systrace_capture_item *item;
	__u32 limit, n;

	if (!s)
		return off;
	if (off >= CAPTURE_END) /* over the record's budget: say it was cut */
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_TRUNCATED);
	limit = room_for(off);
	n = len > limit ? limit : len;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = (arg_flags >> 8) | (len > limit ? SYSTRACE_CAPTURE_TRUNCATED : 0);
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
		} else if (kind == SYSTRACE_CAPTURE_EXIT_BUFFER) {
			at_exit = true;
		}
	}
	if (at_exit)
		bpf_map_update_elem(&pending_calls, &tid, &pending, BPF_ANY);
	return output(s, off, SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
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
			if (spec->kind[i] == SYSTRACE_CAPTURE_EXIT_BUFFER && ret > 0)
				off = capture_mark(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						   SYSTRACE_CAPTURE_LOST);
	} else {
		spec = &capture_specs[nr];
		for (int i = 0; i < SYSTRACE_MAX_ARGS; i++) {
			__u8 kind = spec->kind[i];

			if (kind == SYSTRACE_CAPTURE_EXIT_BUFFER && ret > 0)
				off = capture_buffer(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						     pending->args[i], ret);
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

/* Deliver the enter of a wanted call whose arguments are read: every enter
 * hook ends here, whatever tracepoint it is attached to. */
static __always_inline int deliver_enter(long id, __u64 *args, __u64 pid_tgid, __u32 root)
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

/* Deliver the exit of a wanted call: every exit hook ends here. */
static __always_inline int deliver_exit(long nr, long ret, __u64 pid_tgid, __u32 root)
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

/* A process found by following exits: forget it, so the filter map does not
 * fill with dead processes over a long trace. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *task)
{
	__u32 tgid = task->tgid;
	struct systrace_tgid *entry;

	if (task->pid != task->tgid) /* a thread, not the whole process */
		return 0;
	entry = bpf_map_lookup_elem(&traced_tgids, &tgid);
	if (entry && (entry->flags & SYSTRACE_TGID_DISCOVERED))
		bpf_map_delete_elem(&traced_tgids, &tgid);
	return 0;
}
