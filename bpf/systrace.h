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
	SYSTRACE_PHASE_SIGNAL = 3, /* a systrace_signal_record */
	SYSTRACE_PHASE_TASK_EXIT = 4, /* a systrace_task_exit_record */
};

/*
 * User memory capture. A record of a syscall whose capture is enabled is
 * followed by capture items: a systrace_capture_item, then `len` bytes,
 * then the next item, up to the end of the record.
 */
/* An enum rather than macros so that the values reach the generated Rust
 * types too (and from there the Python module): defined here only. */
enum systrace_capture_limits {
	SYSTRACE_MAX_CAPTURE = 4096, /* bytes of one item at most */
	SYSTRACE_CAPTURE_BUDGET = 8192, /* bytes of items in one record at most */
	SYSTRACE_MAX_ARGV = 32, /* elements of an iovec or message list captured */
	/* Strings of an exec's argv or environment walked: as many as the
	 * record's budget holds items (strace -v prints them all). */
	SYSTRACE_MAX_EXEC_ARGS = 2048,
	SYSTRACE_MAX_COUNT = 8192, /* pointers or records counted at most */
};

/* What to capture of one argument (systrace_capture_spec.kind). */
enum systrace_capture_kind {
	SYSTRACE_CAPTURE_NONE = 0,
	SYSTRACE_CAPTURE_STRING = 1, /* NUL-terminated, at enter (again at exit if it faulted) */
	SYSTRACE_CAPTURE_BUFFER = 2, /* len_arg[i] bytes, at enter */
	SYSTRACE_CAPTURE_ARGV = 3, /* NULL-terminated array of strings, at enter (an exec's argv:
				      read again at exit as EXEC_FILENAME is; its environment,
				      under the command's -v, from the new image's strings after
				      argv's) */
	SYSTRACE_CAPTURE_EXIT_BUFFER = 4, /* ret bytes, at exit (read's data) */
	/* An exec's filename: as STRING; read again at exit if it faulted, from
	 * the caller's memory if the exec failed, or from the new image's
	 * stack, where the kernel copied it, if it succeeded. */
	SYSTRACE_CAPTURE_EXEC_FILENAME = 5,
	/* Structures: size[i] bytes whatever the capture size (-s bounds
	 * strings, not structures), never read through a NULL pointer. */
	SYSTRACE_CAPTURE_STRUCT = 6, /* at enter (an input: a timespec) */
	/* at exit, if it succeeded (an output: a stat) or is to be restarted
	 * after a signal (nanosleep's time left) */
	SYSTRACE_CAPTURE_EXIT_STRUCT = 7,
	SYSTRACE_CAPTURE_INOUT_STRUCT = 8, /* both (a length the call rewrites) */
	/* size[i] * args[len_arg[i]] bytes, at enter and again at the exit of
	 * a call that succeeded (poll's pollfds: events in, revents out). */
	SYSTRACE_CAPTURE_ARRAY = 9,
	SYSTRACE_CAPTURE_EXIT_ARRAY = 10, /* size[i] * ret bytes, at exit (epoll_wait's events) */
	/* Counts, as a __u32 item, where strace prints only how many there
	 * are: execve's environment (at enter), getdents64's entries (at exit)
	 * (the command's -v reads them instead: ARGV, EXIT_BUFFER). */
	SYSTRACE_CAPTURE_PTR_COUNT = 11, /* pointers before the NULL */
	SYSTRACE_CAPTURE_DIRENT_COUNT = 12, /* linux_dirent64 records in ret bytes */
	/* Lists of elements (items flagged ARGV_ELEM, each a
	 * systrace_capture_elem then its data): an iovec array of
	 * args[len_arg[i]] elements, at enter (writev) or at exit, its data
	 * up to ret bytes (readv). */
	SYSTRACE_CAPTURE_IOVEC = 13,
	SYSTRACE_CAPTURE_EXIT_IOVEC = 14,
	/* A user_msghdr: the header, its name, its control data, then its
	 * iovecs as IOVEC, at enter (sendmsg); or the header alone at enter
	 * and all of it at exit, data up to ret bytes (recvmsg). */
	SYSTRACE_CAPTURE_MSGHDR = 15,
	SYSTRACE_CAPTURE_EXIT_MSGHDR = 16,
	/* rt_sigreturn's (it has no arguments): the signal mask it restores,
	 * from the signal frame at size[0] bytes past the user stack pointer,
	 * as item 0, and the return register it restores, at size[1], as
	 * item 1. */
	SYSTRACE_CAPTURE_SIGFRAME_MASK = 17,
	/* fcntl's struct flock (size[i] bytes), when the command in arg
	 * len_arg[i] takes one: at enter for the commands that set a lock, at
	 * exit (if it succeeded) for those that get one. */
	SYSTRACE_CAPTURE_FLOCK = 18,
	/* The inode numbers (__u64 each) of the fds a call made, at its exit
	 * if it succeeded, read from the process's fd table while they are
	 * surely the call's: the fd it returned (size[i] 0: socket; 1:
	 * accept, whose new socket's ends follow, as SOCKET_ENDS's item), or
	 * the two in the int[2] at arg len_arg[i] (size[i] 2: pipe,
	 * socketpair), or the first four an SCM_RIGHTS message brought, when
	 * it is the first of the msghdr at arg len_arg[i] (size[i] 3:
	 * recvmsg; no item else). User space names them (`pipe:[1234]`)
	 * without /proc, which may be read too late, or checks what /proc
	 * names (a received fd may be closed and its number reused by then).
	 * Put on a slot past the call's arguments
	 * (trace::capture::NEW_FDS_ARG), whose index the item carries. */
	SYSTRACE_CAPTURE_NEW_FDS = 19,
	/* An argument whose meaning a command argument (arg len_arg[i])
	 * gives, read only for the commands strace shows it for (command_arg
	 * in capture.bpf.h), from the table size[i] names (enum
	 * systrace_commands): at enter for what the call reads (a structure,
	 * a string), at exit (if it succeeded) for what it writes. */
	SYSTRACE_CAPTURE_COMMAND = 20,
	/* An array of struct mmsghdr (sendmmsg, recvmmsg), at exit: each
	 * message as a MSGHDR list whose header element is the whole mmsghdr
	 * (its msg_len too), for args[len_arg[i]] messages (sendmmsg's vlen,
	 * also when it failed) or, with size[i] 1, the ret messages of a call
	 * that succeeded, their data up to msg_len (recvmmsg; its headers are
	 * also read at enter, as one structure: the name lengths it gave). */
	SYSTRACE_CAPTURE_EXIT_MMSGHDR = 21,
	/* As EXIT_STRUCT, but as many bytes as the int at args[len_arg[i]]
	 * says after the call (getsockopt's value, whose length the call
	 * writes back): whole up to size[i] bytes (a structure), a longer
	 * value cut at the capture size, as a string is. */
	SYSTRACE_CAPTURE_EXIT_SIZED = 22,
	/* The strings a bpf(2) attr (arg 1) points to, for the commands
	 * (arg 0) strace prints them for: BPF_PROG_LOAD's license and
	 * log_buf, BPF_OBJ_PIN's and BPF_OBJ_GET's pathname,
	 * BPF_RAW_TRACEPOINT_OPEN's name, BPF_BTF_LOAD's btf_size bytes of
	 * BTF. One element per pointer that is not
	 * NULL, in the attr's order, at enter, in a slot past bpf's three
	 * arguments (trace::capture::ATTR_STRINGS_ARG). */
	SYSTRACE_CAPTURE_ATTR_STRINGS = 23,
	/* An inet, unix or netlink socket's ends (fd arg 0) as the call left them,
	 * at the exit of connect (also its EINPROGRESS), bind and listen:
	 * struct systrace_socket_ends, read from the kernel's socket while it
	 * is surely the call's (user space names the fd's ends from it under
	 * -yy, where /proc, read later, may no longer have the socket). Put on
	 * trace::capture::NEW_FDS_ARG's slot, flagged SYSTRACE_CAPTURE_ENDS;
	 * none for another family. (accept's are read with its NEW_FDS.) */
	SYSTRACE_CAPTURE_SOCKET_ENDS = 24,
};

struct systrace_socket_ends {
	__u16 family; /* AF_INET, AF_INET6, AF_UNIX, AF_NETLINK */
	__u16 local_port; /* host order; AF_NETLINK: its protocol (NETLINK_ROUTE...) */
	__u16 peer_port; /* host order; 0: no peer */
	__u16 path_len; /* AF_UNIX: the bytes of `path` */
	__u8 local_addr[16]; /* network order; AF_INET's in the first 4 bytes;
			      * AF_NETLINK: its port id, host order (0: not bound) */
	__u8 peer_addr[16];
	/* AF_UNIX's (an inet socket's item ends before them): */
	__u64 peer_inode; /* 0: no peer, or one no accept took yet */
	char path[108]; /* its address's sun_path; an abstract one's starts with NUL */
};

/* The command tables of SYSTRACE_CAPTURE_COMMAND. */
enum systrace_commands {
	SYSTRACE_COMMANDS_IOCTL = 0, /* ioctl's request: a termios, a winsize, an ifreq, an int */
	SYSTRACE_COMMANDS_PRCTL = 1, /* prctl's option: a thread's name, an int */
	SYSTRACE_COMMANDS_SECCOMP = 2, /* seccomp's op: a filter, an action, sizes */
	SYSTRACE_COMMANDS_KEYCTL = 3, /* keyctl's operation: a keyring's name */
	SYSTRACE_COMMANDS_MSGCTL = 4, /* msgctl's cmd: a msqid_ds, a msginfo */
	SYSTRACE_COMMANDS_SHMCTL = 5, /* shmctl's cmd: a shmid_ds, a shminfo, a shm_info */
	SYSTRACE_COMMANDS_SEMCTL = 6, /* semctl's cmd: a semid_ds, a seminfo */
	SYSTRACE_COMMANDS_PRCTL_ARG3 = 7, /* prctl's option, for arg3: PR_SET_SECCOMP's filter */
};

/* The head of an element's data: where it is and what the program gave
 * (iov_base, iov_len), and of it the bytes there were to read (readv's: up
 * to what it returned), or SYSTRACE_ELEM_FAULTED when they could not be. */
struct systrace_capture_elem {
	__u64 ptr;
	__u64 len;
	__u64 avail;
};
#define SYSTRACE_ELEM_FAULTED (~0ULL)

struct systrace_capture_spec {
	__u8 kind[SYSTRACE_MAX_ARGS];
	__u8 len_arg[SYSTRACE_MAX_ARGS]; /* for BUFFER and ARRAY: the arg holding the length */
	__u16 size[SYSTRACE_MAX_ARGS]; /* for the structure kinds: bytes (of one element) */
	/* Derived from kind[] by user space, so that a call walks only the
	 * arguments that have something to do: its enter reads args [0,
	 * enter_args), its exit looks at [0, exit_args); at_exit: the exit
	 * always reads something (at the pointers still in the registers);
	 * retries: a STRING, BUFFER or STRUCT that faulted at enter is read
	 * again at exit, so the enter keeps the call for it then. */
	__u8 enter_args;
	__u8 exit_args;
	__u8 at_exit;
	__u8 retries;
	/* Bit i: arg i's memory is data (read's, write's), cut at data_size;
	 * strings and addresses are cut at capture_size. */
	__u8 data_mask;
	/* Arg 0 is a socket, and the call's data (a BUFFER, EXIT_BUFFER,
	 * MSGHDR or EXIT_MSGHDR) is its messages: when it is a netlink socket,
	 * whose messages strace decodes, the data is read whole (up to
	 * SYSTRACE_MAX_CAPTURE per item, not cut at data_size), after an item
	 * flagged SYSTRACE_CAPTURE_NETLINK holding its protocol (a __u32). */
	__u8 socket_data;
	/* 1 + the index of the one argument an exit reads, when that is all
	 * the call captures and it is data read at exit (read's buffer, not a
	 * socket's): its exit takes capture_exit_data. 0 otherwise. */
	__u8 exit_data;
	/* Bit i: arg i (a STRING, EXEC_FILENAME, ARGV, BUFFER or STRUCT) is
	 * read at the exit of a call whose enter the tracepoint never saw (a
	 * seccomp filter refused it), as one that faulted at enter is. */
	__u8 refetch_mask;
};

enum systrace_capture_flags {
	SYSTRACE_CAPTURE_TRUNCATED = 1, /* longer than the capture size */
	SYSTRACE_CAPTURE_FAULTED = 2, /* user memory could not be read */
	SYSTRACE_CAPTURE_ARGV_ELEM = 4, /* one element of an argv array */
	SYSTRACE_CAPTURE_AT_EXIT = 8, /* read when the syscall returned */
	/* Not captured, and why not said otherwise. No longer written: an
	 * exit read its pointers from what the enter kept, which could be
	 * missing (an enter before the session, or no kernel memory); it now
	 * reads them from the registers, which still hold the call's args. */
	SYSTRACE_CAPTURE_LOST = 16,
	/* Not the argument's memory: the netlink protocol of the socket whose
	 * messages the argument's next item holds (socket_data), a __u32,
	 * with SYSTRACE_NETLINK_UNBOUND when the socket has no port id yet. */
	SYSTRACE_CAPTURE_NETLINK = 32,
	/* Not the argument's memory: a struct systrace_socket_ends
	 * (SYSTRACE_CAPTURE_SOCKET_ENDS, and accept's new fd's). */
	SYSTRACE_CAPTURE_ENDS = 64,
};
#define SYSTRACE_NETLINK_UNBOUND (1U << 31)

struct systrace_capture_item {
	__u8 arg; /* index of the argument */
	__u8 flags; /* systrace_capture_flags */
	__u16 len; /* bytes that follow */
};

/* traced_tgids values: flags, and the process a session registered that
 * this one descends from (itself for a registered one), so that a session
 * following P takes the events of P's whole tree by P's pid alone. */
enum systrace_tgid_flags {
	SYSTRACE_TGID_TRACED = 1,
	SYSTRACE_TGID_FOLLOW = 2, /* its forks are traced too */
	SYSTRACE_TGID_DISCOVERED = 4, /* added by a fork, not by user space */
	/* A launched command held before its execve: that exec starts its
	 * trace, and -b execve (detach_on_execve) does not detach it there;
	 * the programs clear it at that exec. */
	SYSTRACE_TGID_LAUNCHED = 8,
};

/* A thread's start mark of counting (task storage `starts`). */
enum systrace_start_flags {
	/* Set by user space, through a pidfd, on each traced process's first
	 * thread while a session counts first threads only (the command's -c
	 * without -f): a thread that takes its process's id by an exec later
	 * has none, and strace, which traced the first, has lost the process. */
	SYSTRACE_START_FIRST_THREAD = 1,
};

struct systrace_tgid {
	__u32 flags; /* systrace_tgid_flags */
	__u32 root; /* the registered ancestor's tgid */
};

/* The drops map's key: what a lost record would have been, so that each
 * session counts exactly the losses it would have received. */
struct systrace_drop_key {
	__u32 tgid;
	__u32 root;
	__u32 nr;
	__u32 phase;
};

/* Counting (the perf side of the kernel's syscall events: counted in the
 * kernel, nothing delivered). Durations go in log2 buckets: bucket i counts
 * calls of [2^i, 2^(i+1)) ns (bucket 0 also counts 0 ns). */
enum systrace_count_limits {
	SYSTRACE_HIST_BUCKETS = 40,
};

struct systrace_count_key {
	__u32 tgid;
	__u32 root;
	__u32 nr;
	__u32 err; /* 0 in the counts map; the errno in the errnos map */
};

struct systrace_count {
	__u64 calls;
	__u64 errors;
	__u64 total_ns; /* of the calls whose enter was seen */
	__u64 system_ns; /* of those, the time their thread ran (on a CPU) */
	__u64 hist[SYSTRACE_HIST_BUCKETS];
};

/* Slots of threads of systrace's own process that are inside systrace:
 * the programs drop their syscalls (they are the tracer's, not the
 * user's). User space writes the slots without a syscall. */
enum systrace_quiet {
	SYSTRACE_QUIET_SLOTS = 8,
};

/*
 * Event filters (the kernel's filter_current_check_discard), compiled by
 * user space into a postfix program per syscall number: each op pushes or
 * combines booleans on a small stack. Evaluated before anything is put in
 * the ring buffer, so a rejected call costs no record.
 */
enum systrace_filter_limits {
	SYSTRACE_FILTER_OPS = 64, /* ops of one syscall's program at most (a power of two) */
	/* Filters the programs hold at once (the events' and the counting
	 * consumer's, and those replaced but maybe still being read): slot 0
	 * is "no filter". */
	SYSTRACE_FILTER_SLOTS = 1024,
};

enum systrace_filter_code {
	SYSTRACE_OP_PRED = 1, /* push (field cmp value) */
	SYSTRACE_OP_AND = 2,
	SYSTRACE_OP_OR = 3,
	SYSTRACE_OP_NOT = 4,
	SYSTRACE_OP_TRUE = 5, /* a test only user space can make (a glob): */
	SYSTRACE_OP_FALSE = 6, /* its value that lets every match through */
};

/* systrace_filter_op.field: 0..5 are the arguments. */
enum systrace_filter_field {
	SYSTRACE_FIELD_RET = 6,
	SYSTRACE_FIELD_NR = 7,
	SYSTRACE_FIELD_PID = 8, /* common_pid: the thread id */
};

enum systrace_filter_cmp {
	SYSTRACE_CMP_EQ = 0,
	SYSTRACE_CMP_NE = 1,
	SYSTRACE_CMP_LT = 2,
	SYSTRACE_CMP_LE = 3,
	SYSTRACE_CMP_GT = 4,
	SYSTRACE_CMP_GE = 5,
	SYSTRACE_CMP_BIT = 6, /* (field & value) != 0 */
};

/* How the field's 64 bits read as its C type before comparing. */
enum systrace_filter_ext {
	SYSTRACE_EXT_U64 = 0,
	SYSTRACE_EXT_S64 = 1,
	SYSTRACE_EXT_U32 = 2,
	SYSTRACE_EXT_S32 = 3,
	SYSTRACE_EXT_U16 = 4,
	SYSTRACE_EXT_S16 = 5,
};

/* When a call is decided: at its enter (its exit is dropped with it), or at
 * its exit (the enter is held back and sent before the exit if it passes). */
enum systrace_filter_mode {
	/* The exit decides again, from the arguments still in the thread's
	 * registers: the same verdict, with nothing kept between the two. */
	SYSTRACE_FILTER_AT_ENTER = 1,
	SYSTRACE_FILTER_AT_EXIT = 2,
	/* At enter, for a call whose registers do not keep its arguments to
	 * its exit (an exec): every exit goes through, and user space drops
	 * those of the calls it did not accept. */
	SYSTRACE_FILTER_AT_ENTER_ONLY = 3,
};

struct systrace_filter_op {
	__u8 code; /* systrace_filter_code */
	__u8 field; /* systrace_filter_field or argument index */
	__u8 cmp; /* systrace_filter_cmp */
	__u8 ext; /* systrace_filter_ext */
	__u32 pad;
	__u64 value; /* already read as the field's type (see ext) */
};

struct systrace_filter {
	__u32 mode; /* systrace_filter_mode */
	__u32 len; /* ops used */
	struct systrace_filter_op ops[SYSTRACE_FILTER_OPS];
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
	__u64 timestamp_ns; /* bpf_ktime_get_ns(); 0 without with_clock or clock_sessions */
	__u32 tgid; /* the process id */
	__u32 root; /* systrace_tgid.root: the registered ancestor (or tgid) */
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

/*
 * A signal a traced thread is about to act on (the kernel's signal_deliver
 * tracepoint, in get_signal()): the siginfo as the kernel keeps it (struct
 * kernel_siginfo: signo, errno, code, then the union of the fields that
 * depend on them, copied whole; user space reads it as siginfo_t), and
 * what the thread does with it.
 */
enum systrace_signal_limits {
	SYSTRACE_SIGINFO_WORDS = 4, /* the union of kernel_siginfo, in u64 */
};

enum systrace_signal_flags {
	/* SEND_SIG_NOINFO: the SIGKILL of a process exiting as a group, which
	 * comes with no siginfo. */
	SYSTRACE_SIGNAL_NO_INFO = 1,
	/* Recorded when sent (signal_generate): a fatal signal the kernel
	 * turned into a group exit, which no thread acts on. */
	SYSTRACE_SIGNAL_AT_SEND = 2,
	/* Recorded when sent, as AT_SEND: a signal its target ignores (a
	 * SIG_IGN handler, or SIG_DFL where the default is to ignore, as
	 * SIGCHLD's), which the kernel discards there and then. strace, whose
	 * tracees never ignore a signal, shows it. */
	SYSTRACE_SIGNAL_IGNORED = 4,
	/* With IGNORED: the target sent it to itself (kill(getpid(), ...)),
	 * so it comes after the call that sent it. */
	SYSTRACE_SIGNAL_SELF = 8,
};

struct systrace_signal {
	struct trace_entry ent;
	__s32 signo;
	__s32 si_errno;
	__s32 code; /* si_code */
	__u32 flags; /* systrace_signal_flags */
	__u64 handler; /* sa_handler: 0 SIG_DFL, 1 SIG_IGN, else a handler */
	__u64 fields[SYSTRACE_SIGINFO_WORDS];
};

struct systrace_signal_record {
	struct systrace_header hdr;
	struct systrace_signal sig;
};

/* A traced thread exited (sched_process_exit). */
struct systrace_task_exit {
	struct trace_entry ent;
	__s32 exit_code; /* task->exit_code: status << 8, or signal | 0x80 (core) */
	__u32 group_dead; /* the process's last thread */
	/* The thread ran 32-bit code (its last syscall was a compat one):
	 * none of its compat calls were traced, as the kernel's events skip
	 * them; user space says so rather than leave a silent gap. */
	__u32 compat;
};

struct systrace_task_exit_record {
	struct systrace_header hdr;
	struct systrace_task_exit task;
};

#endif /* SYSTRACE_H */
