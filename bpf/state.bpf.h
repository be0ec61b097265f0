// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * What user space writes (through the mmapped .bss) and reads, and the
 * maps: the programs' state.
 *
 * Part of systrace.bpf.c, which includes it once, in order: not a header
 * of its own.
 */

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
/* Past this much waiting (an eighth of the ring) the consumer is behind: every
 * record wakes it, whether a wake-up is on its way or not. A wake-up costs
 * the producing CPU an interrupt it sends itself, and those slow the
 * producers while the consumer catches up: with every record doing so,
 * two busy processes on two CPUs lost nothing; with one wake-up per round
 * they outran the consumer. */
__u64 behind_bytes = ~0ULL;
/* How often the syscall records look at wakeup_bytes: every this many
 * records of one CPU (user space sizes it so that the CPUs together write
 * about wakeup_bytes between looks). A bpf_ringbuf_query() per record was
 * a helper call that reads the consumer's position (see README,
 * Performance). */
__u32 wakeup_records = 1;

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
/* Bytes captured of data (what read and write move, an iovec's) at most:
 * the command shows -s of it, where it keeps paths whole (capture_size). */
__u32 data_size;
/* Sessions that follow forks; the fork program is attached only then. */
__u32 follow_forks;
/* Sessions that want thread exits: the exit program records them then
 * (it is attached while this or follow_forks is set). */
__u32 trace_task_exits;

/* What this load of the programs does, fixed at load: the verifier skips
 * the code of what is off, some 40% of the hooks' (issue 15: start-up).
 * The systrace command loads only what its options use; the library all.
 * User space never asks a load for what it lacks (it loads again). */
const volatile bool with_count = true;
const volatile bool with_filters = true;
/* Counts kept per (registered ancestor, syscall), not per process: the
 * command's -c, whose table sums the processes anyway. A tree of thousands
 * of short-lived processes then makes a few hundred entries, all early,
 * instead of one per process and syscall: its counts are exact where the
 * per-process keys overflowed the maps or outran the kernel's allocator
 * (`seq 3000 | xargs -P 16 -n 1 true` under -f: 16,388 calls uncounted). */
const volatile bool count_by_root = false;
/* Set by user space while a counting session counts only each process's
 * first thread (tid == tgid, and marked SYSTRACE_START_FIRST_THREAD): the
 * command's -c without -f, as strace counts the one thread it traces
 * there. */
__u32 count_first_thread;
/* Taken off each counted call's time, down to 0, by count_by_root loads:
 * the command's -O, strace's overhead of tracing a call, which strace -c
 * takes off each call's time and wall time (clamped at 0) as here. */
__u64 count_overhead_ns;
/* Set by user space while a session detaches from each traced process at
 * its exec (the command's -b execve, as strace's): see exit_detaches. */
__u32 detach_on_execve;
/* The capture kinds (bits of enum systrace_capture_kind) this load can
 * read: the command's -e trace=read needs 5 of 20, and the verifier skips
 * the others' code and the functions only they call (issue 15: start-up).
 * A first session that wants a kind the load lacks loads again; one
 * opened beside sessions on this load is refused, naming it. */
const volatile __u32 capture_kinds = 0xffffffff;
#define IS_KIND(kind, k) ((capture_kinds & (1U << (k))) && (kind) == (k))
/* Whether records carry the time: a bpf_ktime_get_ns() is some 35-50 ns on
 * this machine kind's VMs, two per traced call (the command's getppid loop:
 * 340 to 276 ns a call without). The command loads without it when no
 * option shows a time (strace's default output has none); user space then
 * numbers the records in ring order instead. */
const volatile bool with_clock = true;
/* Sessions open that want the time (refcounted by user space): while none
 * does (every open session was opened with clock=False), a load with the
 * clock leaves it unread too, as one without (issue 15: two reads per
 * call, some 50 ns of the library's read loop). */
__u32 clock_sessions;

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
enum systrace_commands _commands = SYSTRACE_COMMANDS_IOCTL;
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

/* Syscall records sent from this CPU since it last looked at the ring's
 * fill (batch_flags). Per CPU: no cache line shared between CPUs, and the verifier
 * inlines the lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} unwoken SEC(".maps");

/* 1 from the record that woke the consumer until the consumer next goes
 * to sleep (it clears it, through its own mapping, just before): one
 * wake-up per round of draining. Without it, while the consumer was behind, every
 * record woke it again, and each wake-up is an interrupt the producing CPU
 * sends itself (an APIC write: a VM exit on a guest), whether the consumer
 * sleeps or not. A record that read 1 just before the consumer cleared it
 * leaves its data to the next record's look, or to the consumer's short
 * poll timeout, as data below the threshold is. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} consumer_woken SEC(".maps");

/* tgid -> systrace_tgid. Entries are allocated as used, but the kernel
 * allocates and clears the bucket array (16 bytes per entry) when it
 * creates the map: 1 << 18 entries took 3 ms of the first load (issue 15),
 * 1 << 16 takes under 1. SYSTRACE_MAX_PROCESSES raises it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
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

/* Spare entries for counts and errnos, made at load (preallocated): a new
 * entry of those is allocated at the call, without sleeping, and the
 * kernel refuses it while its per-CPU memory is being refilled (a burst
 * of new syscalls on a busy machine: 91 calls of -c's 75,000 once). Shared
 * by the CPUs, so added to atomically; user space sums both. Sized at
 * load, a sixty-fourth of the counting maps. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 10);
	__type(key, struct systrace_count_key);
	__type(value, struct systrace_count);
} spare_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 10);
	__type(key, struct systrace_count_key);
	__type(value, __u64);
} spare_errnos SEC(".maps");

/* When the counted call a thread is in began (and, for a count filter
 * decided at exit, its arguments). */
struct start {
	__u32 nr;
	enum systrace_start_flags flags;
	__u64 ts;
	__u64 ran; /* run_clock() at the enter */
	__u64 switches; /* the thread's context switches then */
	__u32 cpu; /* and its CPU */
	__u64 args[SYSTRACE_MAX_ARGS];
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
	__s32 nr; /* -1: none (taken by its exit, or cleared by a later enter) */
	__u32 retry_mask; /* args to read again at exit */
	__u64 args[SYSTRACE_MAX_ARGS];
};
struct {
	/* Per thread, from enter to exit. Task storage: two lookups in the
	 * thread's own storage, where an LRU hash cost an update, a delete
	 * and its LRU lists' locks (a fifth of the command's read loop), and
	 * a thread is never evicted by others. Its exit says the capture was
	 * lost only if the kernel had no memory for the thread's storage. */
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_call);
} pending_calls SEC(".maps");

/* The call a thread under a seccomp filter is in, as its enter hook saw
 * it (-1: none, the exit took it). Such a filter runs before the enter
 * tracepoint, which never sees a call the filter refuses; its exit does,
 * and finds no call marked here (see enter_refused). Task storage, only
 * for the threads under a filter. */
struct entered_call {
	__s32 nr;
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct entered_call);
} entered_calls SEC(".maps");
/* Task storage a thread under a seccomp filter could not get (no memory):
 * an enter not marked (a failed call of its may show its enter twice), or
 * a refused call's pending_call (the exit shows the addresses of what its
 * enter would have read). */
__u64 entered_unmarked;

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

/* The filters, in slots: an array, which the verifier turns into an
 * address computation (a hash lookup cost a call and a hash). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSTRACE_FILTER_SLOTS);
	__type(key, __u32);
	__type(value, struct systrace_filter);
} filter_slots SEC(".maps");

/* Per syscall number, the slot of its filter (0: none): the events' and
 * the counting consumer's. A filter is never rewritten where a program
 * may read it: user space writes a new one into a free slot, then stores
 * its slot number here, and reuses the slot it replaced only after an RCU
 * grace period (every program that could have read the old number has
 * returned), as the kernel frees a replaced event filter. */
__u16 filter_slot[SYSTRACE_NR_SYSCALLS];
__u16 count_filter_slot[SYSTRACE_NR_SYSCALLS];

/* Syscall `nr`'s filter in `table` (filter_slot or count_filter_slot), or
 * NULL. The slot number is read once. */
static __always_inline const struct systrace_filter *filter_of(__u32 nr, const __u16 *table)
{
	__u32 slot = *(volatile const __u16 *)&table[nr & (SYSTRACE_NR_SYSCALLS - 1)];

	if (!slot)
		return NULL;
	return bpf_map_lookup_elem(&filter_slots, &slot);
}

/* A thread's call in a syscall whose filter is decided at exit: its
 * enter, held until then. Task storage rather than an LRU hash: a mark is
 * never evicted, only freed with its thread. (REJECTED and PASSED: the
 * verdict of a call decided at enter, kept only by experiment 16.) */
enum call_state {
	CALL_NONE = 0,
	CALL_REJECTED = 1,
	CALL_HELD = 2,
	CALL_PASSED = 3,
	CALL_LOST = 4, /* its enter passed the filter but was lost (see enter_lost) */
};
struct call_mark {
	__u32 nr;
	__u32 state; /* enum call_state */
	__u64 ts; /* the held enter's time */
	__u64 args[SYSTRACE_MAX_ARGS];
	/* The held enter's thread: an exec by a thread other than the first
	 * exits on the first's id. */
	__u32 tid;
};
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct call_mark);
} call_marks SEC(".maps");

/* The verdict of the last call decided at enter on this CPU, for its
 * exit: per CPU, so neither a helper call nor task storage. It is that
 * call's while its thread has not been switched out since (its count of
 * context switches says): the thread ran on this CPU alone, and made no
 * other call. Otherwise the exit decides again (see filter_exit_again). */
struct enter_verdict {
	__u32 tid;
	__u32 nr;
	__u64 switches;
	__u32 pass;
	__u32 lost; /* its enter record was lost: the exit is counted lost too */
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct enter_verdict);
} enter_verdicts SEC(".maps");

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
