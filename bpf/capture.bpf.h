// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Records with user memory: the header, strings, buffers, argv and
 * structures read at enter or exit, bounded by the record's budget.
 *
 * Part of systrace.bpf.c, which includes it once, in order: not a header
 * of its own.
 */

/* The submit flags of a record, given `avail` bytes waiting: wake the
 * consumer once wakeup_bytes wait, unless a wake-up is already on its way
 * (consumer_woken); past behind_bytes, always. */
static __always_inline __u64 wake_flags(__u64 avail)
{
	__u32 zero = 0, *woken;

	if (avail < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	if (avail >= behind_bytes)
		return BPF_RB_FORCE_WAKEUP;
	woken = bpf_map_lookup_elem(&consumer_woken, &zero);
	if (!woken)
		return BPF_RB_FORCE_WAKEUP;
	if (*(volatile __u32 *)woken)
		return BPF_RB_NO_WAKEUP;
	*(volatile __u32 *)woken = 1;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline __u64 submit_flags(void)
{
	return wake_flags(bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA));
}

/* The largest record without captures, with the ring's own header: the
 * unit of wakeup_records (programs.rs sizes it with the same). */
#define PLAIN_RECORD_MAX                                                                         \
	(sizeof(struct systrace_header) + __builtin_offsetof(struct syscall_trace_enter, args) + \
	 8 * SYSTRACE_MAX_ARGS + 8)

/* The submit flags of a syscall record of `size` bytes (0: a record
 * without captures, reserved at its own size). The ring is looked at only once this
 * CPU wrote wakeup_records plain records' worth (wake_flags: wake the
 * consumer if wakeup_bytes wait and no wake-up is on its way), and at
 * every record while the consumer is behind. The consumer's short poll
 * timeout and every flush take what waits below the threshold. A count
 * lost to a preempted program only moves a look by a record. */
static __always_inline __u64 batch_flags(__u32 size)
{
	__u32 zero = 0, *n = bpf_map_lookup_elem(&unwoken, &zero);
	__u64 avail;

	if (n && (*n += 1 + size / PLAIN_RECORD_MAX) < wakeup_records)
		return BPF_RB_NO_WAKEUP;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (n && avail < behind_bytes)
		*n = 0;
	return wake_flags(avail);
}

static __always_inline void fill_header(struct systrace_header *hdr, __u64 pid_tgid, __u32 root,
					__u8 phase, __u8 nb_args)
{
	hdr->timestamp_ns = with_clock && clock_sessions ? bpf_ktime_get_ns() : 0;
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

/* A call's six arguments, as a global function takes them (a pointer to a
 * type of known size). */
struct call_args {
	__u64 v[SYSTRACE_MAX_ARGS];
};

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

static __always_inline __u32 data_limit(void)
{
	__u32 size = data_size;

	return size > SYSTRACE_MAX_CAPTURE ? SYSTRACE_MAX_CAPTURE : size;
}

/* A held enter sent at its exit keeps the time of its enter. */
static __always_inline void use_held_ts(struct systrace_header *hdr)
{
	__u32 zero = 0;
	__u64 *ts = bpf_map_lookup_elem(&held_ts, &zero);

	if (ts && *ts) {
		/* Only into a timed record: an untimed one is numbered in
		 * ring order, where a time would sort it after the rest. */
		if (hdr->timestamp_ns)
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
/* In arg_flags: data (read's, an iovec's), cut at the data size. */
#define ARG_DATA (1 << 17)

/* Bytes one more item may hold: the capture size, or the data size for
 * ARG_DATA (for a structure, one item's most), within what is left of the
 * record's budget (a capture never goes past it). */
static __always_inline __u32 room_for(__u32 off, __u32 arg_flags)
{
	__u32 limit = (arg_flags & ARG_STRUCT) ? SYSTRACE_MAX_CAPTURE :
		      (arg_flags & ARG_DATA)   ? data_limit() :
						 capture_limit();
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

/* An item of `value` itself, 8 bytes: what the programs know and user
 * memory does not hold (rt_sigreturn's stack pointer). */
__noinline __u32 capture_value(struct scratch *s, __u32 off, __u32 arg_flags, __u64 value)
{
	struct systrace_capture_item *item;

	if (!s || off >= CAPTURE_END)
		return off;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = (arg_flags >> 8) & 0xff;
	item->len = sizeof(value);
	__builtin_memcpy(&s->buf[off + sizeof(*item)], &value, sizeof(value));
	return off + sizeof(*item) + sizeof(value);
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
	limit = room_for(off, 0);
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
	limit = room_for(off, arg_flags);
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

/* A structure read at exit (EXIT_STRUCT, INOUT_STRUCT, EXIT_SIZED) at
 * `ptr`. `how`: the item's flags (with ARG_STRUCT) in its low 24 bits,
 * the structure's size in the high 32; bit 31 for EXIT_SIZED, whose
 * length is the int that the argument numbered in bits 24-26 points to
 * after the call: whole up to that size, a longer value cut at the
 * capture size (getsockopt's). Global: checked once, not on each path of
 * the exit walk (a branch in the walk cost ~750 verified instructions,
 * most of them arg_at()'s paths). */
__noinline __u32 capture_exit_struct(struct scratch *s, __u32 off, __u64 how, __u64 ptr,
				     const struct call_args *args)
{
	__u32 arg_struct = how & 0xffffff, size = how >> 32, n = (how >> 24) & 7;
	__s32 len = 0;

	if (!(how & (1U << 31)) || !args || n >= SYSTRACE_MAX_ARGS)
		return capture_buffer(s, off, arg_struct, ptr, size);
	bpf_probe_read_user(&len, sizeof(len), (const void *)args->v[n]);
	if (len < 0)
		len = 0;
	return capture_buffer(s, off, (__u32)len <= size ? arg_struct : arg_struct & ~ARG_STRUCT,
			      ptr, len);
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
	__u32 arg_flags;
	bool done;
	bool faulted; /* an element's string could not be read */
	bool unread; /* the array itself could not be read from here on */
};

static long capture_argv_elem(__u32 j, struct argv_walk *walk)
{
	__u64 elem = 0;
	__u32 off = walk->off;

	if (bpf_probe_read_user(&elem, sizeof(elem), (const void *)(walk->argv + 8 * j)) < 0) {
		/* The array itself, not mapped yet (a forked child's copy of
		 * its parent's data): not the end of the list (marked below). */
		walk->unread = true;
		return 1;
	}
	if (!elem) {
		walk->done = true;
		return 1; /* stop */
	}
	if (j >= SYSTRACE_MAX_EXEC_ARGS || off >= CAPTURE_END)
		return 1; /* more than we keep, or over the budget: cut (marked below) */
	walk->off = capture_string(walk->s, off, walk->arg_flags, elem);
	if (item_faulted(walk->s, off))
		walk->faulted = true;
	return 0;
}

/* bpf_loop() has the verifier check the loop body once, not once per
 * element (unrolled, argv alone cost it ~100 ms at every load). `faulted`:
 * set if an element's string could not be read. */
static __always_inline __u32 capture_argv(struct scratch *s, __u32 off, __u32 arg, __u64 argv,
					  bool *faulted)
{
	struct argv_walk walk = { .s = s,
				  .argv = argv,
				  .off = off,
				  .arg_flags = ARG_FLAGS(arg, SYSTRACE_CAPTURE_ARGV_ELEM) };

	/* One more than it keeps: a list of exactly as many is not cut. */
	bpf_loop(SYSTRACE_MAX_EXEC_ARGS + 1, capture_argv_elem, &walk, 0);
	*faulted = walk.faulted || walk.unread;
	if (walk.done)
		return walk.off;
	/* More elements than we keep: an empty item says the list was cut; or
	 * (faulted too) that the rest could not be read, and is read again at
	 * exit. */
	return capture_mark(s, walk.off, walk.arg_flags,
			    SYSTRACE_CAPTURE_TRUNCATED |
				    (walk.unread ? SYSTRACE_CAPTURE_FAULTED : 0));
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

/* What command `cmd` of table `table` (enum systrace_commands) reads or
 * writes through its argument: COMMAND_READS, a structure of *size bytes
 * it reads (at enter); COMMAND_WRITES, one it writes (at exit);
 * COMMAND_READS_STRING, a string it reads; COMMAND_READS_WRITES, a
 * structure it reads and rewrites (at both); 0, nothing strace shows.
 * ioctl's are asm-generic/ioctls.h values, prctl's and seccomp's uapi
 * linux/prctl.h and linux/seccomp.h: the same on x86_64 and aarch64. */
/* Bits: READS_WRITES is both. COMMAND_LIST: the structure points to an
 * array the call writes, read with it at exit (capture_ifconf). */
enum {
	COMMAND_READS = 1,
	COMMAND_WRITES = 2,
	COMMAND_READS_WRITES = 3,
	COMMAND_READS_STRING = 4,
	COMMAND_LIST = 16,
};

/* The socket requests (linux/sockios.h) strace decodes the argument of,
 * 0x8900 + i: what each does with it (COMMAND_*), and SOCK_IFREQ for a
 * struct ifreq (a name, IFNAMSIZ, and a union of 24 bytes), else an int.
 * A table, not cases: the verifier goes through a switch's every case. */
#define SOCK_IFREQ 8
#define SOCK_REQUESTS 0xa4
#define IFREQ_GET (COMMAND_READS_WRITES | SOCK_IFREQ) /* the name read, the rest written */
#define IFREQ_SET (COMMAND_READS | SOCK_IFREQ)
static const __u8 sock_requests[SOCK_REQUESTS] = {
	[0x01] = COMMAND_READS, /* FIOSETOWN */
	[0x02] = COMMAND_READS, /* SIOCSPGRP */
	[0x03] = COMMAND_WRITES, /* FIOGETOWN */
	[0x04] = COMMAND_WRITES, /* SIOCGPGRP */
	[0x05] = COMMAND_WRITES, /* SIOCATMARK */
	[0x10] = IFREQ_GET, /* SIOCGIFNAME */
	[0x13] = IFREQ_GET, /* SIOCGIFFLAGS */
	[0x14] = IFREQ_SET,
	[0x15] = IFREQ_GET, /* SIOCGIFADDR */
	[0x16] = IFREQ_SET,
	[0x17] = IFREQ_GET, /* SIOCGIFDSTADDR */
	[0x18] = IFREQ_SET,
	[0x19] = IFREQ_GET, /* SIOCGIFBRDADDR */
	[0x1a] = IFREQ_SET,
	[0x1b] = IFREQ_GET, /* SIOCGIFNETMASK */
	[0x1c] = IFREQ_SET,
	[0x1d] = IFREQ_GET, /* SIOCGIFMETRIC */
	[0x1e] = IFREQ_SET,
	[0x21] = IFREQ_GET, /* SIOCGIFMTU */
	[0x22] = IFREQ_SET,
	[0x23] = IFREQ_SET, /* SIOCSIFNAME */
	[0x24] = IFREQ_SET, /* SIOCSIFHWADDR */
	[0x25] = COMMAND_WRITES, /* SIOCGIFENCAP */
	[0x26] = COMMAND_READS, /* SIOCSIFENCAP */
	[0x27] = IFREQ_GET, /* SIOCGIFHWADDR */
	[0x29] = IFREQ_GET, /* SIOCGIFSLAVE */
	[0x30] = IFREQ_SET, /* SIOCSIFSLAVE */
	[0x31] = IFREQ_SET, /* SIOCADDMULTI */
	[0x32] = IFREQ_SET, /* SIOCDELMULTI */
	[0x33] = IFREQ_GET, /* SIOCGIFINDEX */
	[0x37] = IFREQ_SET, /* SIOCSIFHWBROADCAST */
	[0x42] = IFREQ_GET, /* SIOCGIFTXQLEN */
	[0x43] = IFREQ_SET,
	[0x4b] = COMMAND_WRITES, /* SIOCOUTQNSD */
	[0x70] = IFREQ_GET, /* SIOCGIFMAP */
	[0x71] = IFREQ_SET,
	[0xa0] = COMMAND_READS_STRING, /* SIOCBRADDBR, SIOCBRDELBR: a bridge's name */
	[0xa1] = COMMAND_READS_STRING,
	[0xa2] = IFREQ_SET, /* SIOCBRADDIF, SIOCBRDELIF: a port's index */
	[0xa3] = IFREQ_SET,
};

/* msgctl's, shmctl's and semctl's commands whose structure strace shows
 * (uapi linux/ipc.h, msg.h, shm.h, sem.h): IPC_SET's, read at enter, and
 * the STATs' and INFOs', written (at exit). Each: COMMAND_* | the
 * structure's size in 8-byte words << 2. The 64-bit layouts (IPC_64's):
 * msqid64_ds 120 bytes, msginfo 32, shmid64_ds 112, shminfo64 72,
 * shm_info 48, semid64_ds 104 on x86_64 (88 on aarch64), seminfo 40. */
#define IPC_CMD(bytes, what) ((bytes) / 8 << 2 | (what))
#define IPC_COMMANDS 32
#if defined(__TARGET_ARCH_arm64)
#define SEMID_DS 88
#else
#define SEMID_DS 104
#endif
/* A fourth row, empty: the index's mask is its bound. */
static const __u8 ipc_commands[4][IPC_COMMANDS] = {
	{
		/* msgctl */
		[1] = IPC_CMD(120, COMMAND_READS), /* IPC_SET */
		[2] = IPC_CMD(120, COMMAND_WRITES), /* IPC_STAT */
		[3] = IPC_CMD(32, COMMAND_WRITES), /* IPC_INFO */
		[11] = IPC_CMD(120, COMMAND_WRITES), /* MSG_STAT */
		[12] = IPC_CMD(32, COMMAND_WRITES), /* MSG_INFO */
		[13] = IPC_CMD(120, COMMAND_WRITES), /* MSG_STAT_ANY */
	},
	{
		/* shmctl */
		[1] = IPC_CMD(112, COMMAND_READS),
		[2] = IPC_CMD(112, COMMAND_WRITES),
		[3] = IPC_CMD(72, COMMAND_WRITES),
		[13] = IPC_CMD(112, COMMAND_WRITES), /* SHM_STAT */
		[14] = IPC_CMD(48, COMMAND_WRITES), /* SHM_INFO */
		[15] = IPC_CMD(112, COMMAND_WRITES), /* SHM_STAT_ANY */
	},
	{
		/* semctl */
		[1] = IPC_CMD(SEMID_DS, COMMAND_READS),
		[2] = IPC_CMD(SEMID_DS, COMMAND_WRITES),
		[3] = IPC_CMD(40, COMMAND_WRITES),
		[18] = IPC_CMD(SEMID_DS, COMMAND_WRITES), /* SEM_STAT */
		[19] = IPC_CMD(40, COMMAND_WRITES), /* SEM_INFO */
		[20] = IPC_CMD(SEMID_DS, COMMAND_WRITES), /* SEM_STAT_ANY */
	},
};

static __always_inline int command_arg(__u32 table, __u64 cmd, __u32 *size)
{
	if (table - SYSTRACE_COMMANDS_MSGCTL < 3) {
		/* IPC_64, which 32-bit callers set, changes nothing here. */
		__u32 c = (__u32)cmd & ~0x100, t = table - SYSTRACE_COMMANDS_MSGCTL;
		__u8 what;

		if (c >= IPC_COMMANDS)
			return 0;
		/* The masks are the bounds the verifier sees (the compiler
		 * would test copies of c and t). */
		barrier_var(c);
		barrier_var(t);
		what = ipc_commands[t & 3][c & (IPC_COMMANDS - 1)];
		*size = (what >> 2) * 8;
		return what & COMMAND_READS_WRITES;
	}
	if (table == SYSTRACE_COMMANDS_PRCTL) {
		switch ((__u32)cmd) {
		case 15: /* PR_SET_NAME */
			return COMMAND_READS_STRING;
		case 16: /* PR_GET_NAME: TASK_COMM_LEN bytes */
			*size = 16;
			return COMMAND_WRITES;
		case 2: /* PR_GET_PDEATHSIG, PR_GET_CHILD_SUBREAPER: an int */
		case 37:
			*size = 4;
			return COMMAND_WRITES;
		}
		return 0;
	}
	if (table == SYSTRACE_COMMANDS_PRCTL_ARG3) {
		/* PR_SET_SECCOMP's struct sock_fprog (with SECCOMP_MODE_FILTER
		 * in arg2; with the other mode, arg3 is unused and shown so). */
		*size = 16;
		return (__u32)cmd == 22 ? COMMAND_READS : 0;
	}
	if (table == SYSTRACE_COMMANDS_KEYCTL) /* JOIN_SESSION_KEYRING's name */
		return (__u32)cmd == 1 ? COMMAND_READS_STRING : 0;
	if (table == SYSTRACE_COMMANDS_SECCOMP) {
		switch ((__u32)cmd) {
		case 1: /* SECCOMP_SET_MODE_FILTER: struct sock_fprog */
			*size = 16;
			return COMMAND_READS;
		case 2: /* SECCOMP_GET_ACTION_AVAIL: the action, a __u32 */
			*size = 4;
			return COMMAND_READS;
		case 3: /* SECCOMP_GET_NOTIF_SIZES: three __u16 */
			*size = 6;
			return COMMAND_WRITES;
		}
		return 0;
	}
	if ((__u32)cmd == 0x8912) { /* SIOCGIFCONF: struct ifconf, and its ifreqs at exit */
		*size = 16;
		return COMMAND_READS_WRITES | COMMAND_LIST;
	}
	if ((__u32)cmd - 0x8900 < SOCK_REQUESTS) {
		__u8 what = sock_requests[(__u32)cmd - 0x8900];

		/* 4 or 40, computed: one state for the verifier, not two. */
		*size = 4 + (what & SOCK_IFREQ) / SOCK_IFREQ * 36;
		return what & ~SOCK_IFREQ;
	}
	switch ((__u32)cmd) {
	case 0x5401: /* TCGETS: the kernel's struct termios */
		*size = 36;
		return COMMAND_WRITES;
	case 0x5402: /* TCSETS, TCSETSW, TCSETSF */
	case 0x5403:
	case 0x5404:
		*size = 36;
		return COMMAND_READS;
	case 0x5413: /* TIOCGWINSZ */
		*size = 8;
		return COMMAND_WRITES;
	case 0x5414: /* TIOCSWINSZ */
		*size = 8;
		return COMMAND_READS;
	case 0x540f: /* TIOCGPGRP, TIOCOUTQ, FIONREAD, TIOCGPTN: an int */
	case 0x5411:
	case 0x541b:
	case 0x80045430:
	case 0x80086601: /* FS_IOC_GETFLAGS: numbered for a long, an int */
	case 0xb704: /* NS_GET_OWNER_UID: a uid_t */
		*size = 4;
		return COMMAND_WRITES;
	case 0xc020660b: /* FS_IOC_FIEMAP (dpkg): struct fiemap's head */
		*size = 32;
		return COMMAND_READS_WRITES;
	case 0x5410: /* TIOCSPGRP, FIONBIO, TIOCSPTLCK */
	case 0x5421:
	case 0x40045431:
	case 0x40086602: /* FS_IOC_SETFLAGS */
		*size = 4;
		return COMMAND_READS;
	}
	return 0;
}

/* SIOCGIFCONF's struct ifconf as the call left it, and the ifc_len bytes
 * of ifreqs it wrote at ifc_buf: two elements of a list (ifconfig lists
 * the interfaces so). */
struct ifconf_head {
	__s32 len;
	__u32 pad;
	__u64 buf;
};

__noinline __u32 capture_ifconf(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr)
{
	struct ifconf_head ifc = {};

	off = capture_buffer(s, off, arg_flags, ptr, sizeof(ifc));
	if (bpf_probe_read_user(&ifc, sizeof(ifc), (const void *)ptr) < 0 || !ifc.buf ||
	    ifc.len <= 0)
		return off;
	return capture_buffer(s, off, arg_flags, ifc.buf, ifc.len);
}

/* The struct file of fd `fd` of the current process; NULL if it has none. */
static __always_inline struct file *fd_file(struct fdtable *fdt, __s32 fd)
{
	struct file **fds = NULL;
	struct file *file = NULL;
	unsigned int max = 0;

	if (fd < 0 || bpf_probe_read_kernel(&max, sizeof(max), &fdt->max_fds) || fd >= max ||
	    bpf_probe_read_kernel(&fds, sizeof(fds), &fdt->fd) ||
	    bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/* The inode number of fd `fd` of the current process; 0 if it has none. */
static __always_inline __u64 fd_inode(struct fdtable *fdt, __s32 fd)
{
	struct file *file = fd_file(fdt, fd);
	struct inode *inode = NULL;
	__u64 ino = 0;

	if (!file || bpf_probe_read_kernel(&inode, sizeof(inode), &file->f_inode) || !inode ||
	    bpf_probe_read_kernel(&ino, sizeof(ino), &inode->i_ino))
		return 0;
	return ino;
}

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define AF_NETLINK 16

/* The socket of fd `fd` of the current process; NULL if it is not one. */
static __always_inline struct sock *fd_sock(__u64 fd)
{
	struct files_struct *files = NULL;
	struct fdtable *fdt = NULL;
	struct file *file = NULL;
	struct inode *inode = NULL;
	struct socket *sock = NULL;
	struct sock *sk = NULL;
	unsigned short mode = 0;

	if (fd > 0x7fffffff ||
	    bpf_probe_read_kernel(&files, sizeof(files), &bpf_get_current_task_btf()->files) ||
	    !files || bpf_probe_read_kernel(&fdt, sizeof(fdt), &files->fdt) || !fdt)
		return NULL;
	file = fd_file(fdt, fd);
	if (!file || bpf_probe_read_kernel(&inode, sizeof(inode), &file->f_inode) || !inode ||
	    bpf_probe_read_kernel(&mode, sizeof(mode), &inode->i_mode) ||
	    (mode & S_IFMT) != S_IFSOCK ||
	    bpf_probe_read_kernel(&sock, sizeof(sock), &file->private_data) || !sock ||
	    bpf_probe_read_kernel(&sk, sizeof(sk), &sock->sk))
		return NULL;
	return sk;
}

/* For a call's socket_data: when fd `fd` (arg 0) is a netlink socket, an
 * item flagged NETLINK with its protocol, for the argument of `arg_flags`;
 * its data is then read whole. Returns `off` unchanged for any other fd
 * (or past the record's budget): the data is cut at data_size, as for any
 * socket. */
__noinline __u32 capture_netlink(struct scratch *s, __u32 off, __u32 arg_flags, __u64 fd)
{
	struct systrace_capture_item *item;
	struct sock *sk = NULL;
	unsigned short family = 0;
	__u16 protocol = 0;
	__u32 value, portid = 0;

	if (!s || off >= CAPTURE_END)
		return off;
	sk = fd_sock(fd);
	if (!sk || bpf_probe_read_kernel(&family, sizeof(family), &sk->__sk_common.skc_family) ||
	    family != AF_NETLINK ||
	    bpf_probe_read_kernel(&protocol, sizeof(protocol), &sk->sk_protocol))
		return off;
	/* strace finds a socket's protocol by its port id, which an unbound
	 * one has not: it decodes that socket's messages without it. */
	if (bpf_probe_read_kernel(&portid, sizeof(portid), &((struct netlink_sock *)sk)->portid))
		portid = 0;
	value = protocol | (portid ? 0 : SYSTRACE_NETLINK_UNBOUND);
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = ((arg_flags >> 8) & 0xff) | SYSTRACE_CAPTURE_NETLINK;
	item->len = sizeof(value);
	__builtin_memcpy(&s->buf[off + sizeof(*item)], &value, sizeof(value));
	return off + sizeof(*item) + sizeof(value);
}

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SYSTRACE_EINPROGRESS 115

/* A unix socket's peer's inode number and its own address's path, into
 * `ends`; what cannot be read stays 0. */
static __always_inline void unix_ends(struct sock *sk, struct systrace_socket_ends *ends)
{
	struct unix_sock *u = (void *)sk;
	struct unix_address *addr = NULL;
	struct socket *other = NULL;
	struct sock *peer = NULL;
	int len = 0;
	__u32 n;

	/* The peer a connect made has no socket (nor inode) until an accept
	 * takes it: none yet, as sock_diag tells strace. */
	if (!bpf_probe_read_kernel(&peer, sizeof(peer), &u->peer) && peer &&
	    !bpf_probe_read_kernel(&other, sizeof(other), &peer->sk_socket) && other &&
	    bpf_probe_read_kernel(&ends->peer_inode, sizeof(ends->peer_inode),
				  &((struct socket_alloc *)other)->vfs_inode.i_ino))
		ends->peer_inode = 0;
	if (bpf_probe_read_kernel(&addr, sizeof(addr), &u->addr) || !addr ||
	    bpf_probe_read_kernel(&len, sizeof(len), &addr->len))
		return;
	n = len > 2 ? len - 2 : 0; /* past sun_family */
	if (n > sizeof(ends->path))
		n = sizeof(ends->path);
	barrier_var(n);
	n &= 127; /* no-op: the bound the verifier sees (clang passed the value unclamped) */
	if (n && !bpf_probe_read_kernel(ends->path, n, addr->name[0].sun_path))
		ends->path_len = n;
}

/* SYSTRACE_CAPTURE_SOCKET_ENDS: an item of the ends of fd `fd` when it is
 * an inet, a unix or a netlink socket; nothing for any other fd. Written in place (a
 * unix socket's path would not fit the stack beside its callers'). */
__noinline __u32 capture_socket_ends(struct scratch *s, __u32 off, __u32 arg_flags, __u64 fd)
{
	struct systrace_capture_item *item;
	struct systrace_socket_ends *ends;
	struct sock *sk = NULL;
	struct sock_common *c;
	unsigned short family = 0;
	__be16 dport = 0;
	__u32 size = sizeof(*ends);

	if (!s || off >= CAPTURE_END)
		return off;
	sk = fd_sock(fd);
	if (!sk || bpf_probe_read_kernel(&family, sizeof(family), &sk->__sk_common.skc_family) ||
	    (family != AF_INET && family != AF_INET6 && family != AF_UNIX && family != AF_NETLINK))
		return off;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	ends = (void *)&s->buf[off + sizeof(*item)];
	__builtin_memset(ends, 0, sizeof(*ends));
	ends->family = family;
	c = &sk->__sk_common;
	if (family == AF_UNIX) {
		unix_ends(sk, ends);
	} else if (family == AF_NETLINK) {
		/* Its protocol and port id (0: not bound), in the inet fields:
		 * `ip` and `ss` bind, then end before /proc could be read. */
		size = __builtin_offsetof(struct systrace_socket_ends, peer_inode);
		if (bpf_probe_read_kernel(&ends->local_port, sizeof(ends->local_port),
					  &sk->sk_protocol) ||
		    bpf_probe_read_kernel(ends->local_addr, sizeof(__u32),
					  &((struct netlink_sock *)sk)->portid))
			return off;
	} else {
		/* An inet socket's item ends before the unix fields. */
		size = __builtin_offsetof(struct systrace_socket_ends, peer_inode);
		if (bpf_probe_read_kernel(&ends->local_port, sizeof(ends->local_port),
					  &c->skc_num) ||
		    bpf_probe_read_kernel(&dport, sizeof(dport), &c->skc_dport))
			return off;
		ends->peer_port = bpf_ntohs(dport);
		if (family == AF_INET) {
			if (bpf_probe_read_kernel(ends->local_addr, 4, &c->skc_rcv_saddr) ||
			    bpf_probe_read_kernel(ends->peer_addr, 4, &c->skc_daddr))
				return off;
		} else if (!bpf_core_field_exists(c->skc_v6_daddr) ||
			   bpf_probe_read_kernel(ends->local_addr, 16, &c->skc_v6_rcv_saddr) ||
			   bpf_probe_read_kernel(ends->peer_addr, 16, &c->skc_v6_daddr)) {
			return off;
		}
	}
	item->arg = arg_flags & 0xff;
	item->flags = ((arg_flags >> 8) & 0xff) | SYSTRACE_CAPTURE_ENDS;
	item->len = size;
	return off + sizeof(*item) + size;
}

/* capture_new_fds's `ret` for a msghdr's SCM_RIGHTS fds (no fd's number). */
#define SYSTRACE_NEW_FDS_SCM_RIGHTS (~0ULL)
/* The fds of an SCM_RIGHTS message whose inodes are read (multiprocessing's
 * forkserver passes 4 at a time): the int[2]'s fit too. */
#define NEW_FDS_MAX 4

/* SYSTRACE_CAPTURE_NEW_FDS: an item of the inode numbers of fd `ret`
 * (ptr 0), of the two fds in the int[2] at `ptr`, or (`ret`
 * SYSTRACE_NEW_FDS_SCM_RIGHTS) of the first NEW_FDS_MAX fds an SCM_RIGHTS
 * message of the msghdr at `ptr` brought. */
__noinline __u32 capture_new_fds(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr,
				 __u64 ret)
{
	struct systrace_capture_item *item;
	struct files_struct *files = NULL;
	struct fdtable *fdt = NULL;
	__s32 fds[NEW_FDS_MAX] = { (__s32)ret, -1, -1, -1 };
	__u64 *inos;
	/* One after the other, in one place (the stack of the exit's
	 * deepest chain of calls is at its 512 bytes' edge). */
	union {
		__u64 control[2]; /* a user_msghdr's msg_control, msg_controllen (at 32) */
		struct {
			__u64 len;
			__s32 level, type;
		} cmsg;
	} m;
	__u64 control, controllen;
	__u32 n = 1, size;

	if (!s || off > CAPTURE_END + MARKS_ROOM)
		return off;
	if (ret == SYSTRACE_NEW_FDS_SCM_RIGHTS) {
		/* The first message's first fds, if it is SCM_RIGHTS; no item
		 * else (the fds of another shape go unchecked). */
		if (bpf_probe_read_user(m.control, sizeof(m.control), (const void *)(ptr + 32)) <
			    0 ||
		    !m.control[0] || m.control[1] < sizeof(m.cmsg) + 4)
			return off;
		control = m.control[0];
		controllen = m.control[1];
		if (bpf_probe_read_user(&m.cmsg, sizeof(m.cmsg), (const void *)control) < 0 ||
		    m.cmsg.level != 1 /* SOL_SOCKET */ || m.cmsg.type != 1 /* SCM_RIGHTS */ ||
		    m.cmsg.len < sizeof(m.cmsg) + 4 || m.cmsg.len > controllen)
			return off;
		n = (m.cmsg.len - sizeof(m.cmsg)) / 4;
		if (n > NEW_FDS_MAX)
			n = NEW_FDS_MAX;
		size = n - 1; /* n is 1 to NEW_FDS_MAX */
		barrier_var(size);
		size = ((size & (NEW_FDS_MAX - 1)) + 1) * sizeof(fds[0]); /* the verifier's bound */
		if (bpf_probe_read_user(fds, size, (const void *)(control + sizeof(m.cmsg))) < 0)
			return off;
	} else if (ptr) {
		if (bpf_probe_read_user(fds, 2 * sizeof(fds[0]), (const void *)ptr) < 0)
			return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_FAULTED);
		n = 2;
	}
	if (bpf_probe_read_kernel(&files, sizeof(files), &bpf_get_current_task_btf()->files) ||
	    !files || bpf_probe_read_kernel(&fdt, sizeof(fdt), &files->fdt) || !fdt)
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_FAULTED);
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	item->arg = arg_flags & 0xff;
	item->flags = (arg_flags >> 8) & 0xff;
	item->len = n * sizeof(__u64);
	/* Written in place, past the item. */
	inos = (void *)&s->buf[off + sizeof(*item)];
	for (int i = 0; i < NEW_FDS_MAX; i++)
		inos[i] = i < n ? fd_inode(fdt, fds[i]) : 0;
	return off + sizeof(*item) + n * sizeof(__u64);
}

/* For a call's socket_data: the netlink item first, when arg 0 is a
 * netlink socket; returns the flags the data is then read with (whole, or
 * `other`). */
static __always_inline __u32 socket_data_flag(struct scratch *s, __u32 *off,
					      const struct systrace_capture_spec *spec,
					      __u32 arg_flags, __u64 fd, __u32 other)
{
	__u32 start = *off;

	if (spec->socket_data)
		*off = capture_netlink(s, *off, arg_flags, fd);
	return *off != start ? ARG_STRUCT : other;
}

/* ARG_DATA for an argument the spec says is data. */
static __always_inline __u32 data_flag(const struct systrace_capture_spec *spec, __u32 i)
{
	return (spec->data_mask >> (i & 7)) & 1 ? ARG_DATA : 0;
}

#include "lists.bpf.h"

static __always_inline int output(struct scratch *s, __u32 size, __u32 phase, __u32 nr,
				  __u64 pid_tgid, __u32 root)
{
	/* Every record fits (CAPTURE_END + one item < SCRATCH_SIZE): the mask
	 * changes nothing but shows the verifier the bound. */
	barrier_var(size);
	size &= SCRATCH_SIZE - 1;
	if (bpf_ringbuf_output(&events, s->buf, size, batch_flags(size)) < 0) {
		count_drop(phase, nr, pid_tgid, root);
		return 1;
	}
	return 0;
}

/* An enter record without user memory for a call whose enter hook did not
 * write it (a held enter, sent at its exit; a refused call's, made at its
 * exit), built in the scratch buffer and sent with one output. Global:
 * checked once, where a reserve per arg count, as emit_enter's, or a copy
 * in each caller, is code the verifier goes through on every path that
 * gets here. `ts`: the time a timed record takes instead of now (0: now).
 * Returns 1 if the ring buffer was full (the record lost, and counted). */
__noinline int output_plain_enter(__u32 nr, const struct call_args *args, __u64 ts, __u64 pid_tgid,
				  __u32 root)
{
	struct systrace_enter_record *rec;
	struct scratch *s;
	__u32 zero = 0;
	__u8 nb_args;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !args)
		return 0;
	rec = (void *)s->buf;
	nr &= SYSTRACE_NR_SYSCALLS - 1;
	nb_args = syscall_nb_args[nr];
	if (nb_args > SYSTRACE_MAX_ARGS)
		nb_args = SYSTRACE_MAX_ARGS;
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_ENTER, nb_args);
	if (ts && rec->hdr.timestamp_ns)
		rec->hdr.timestamp_ns = ts;
	fill_entry(&rec->trace.ent, pid_tgid);
	rec->trace.nr = nr;
	for (int i = 0; i < SYSTRACE_MAX_ARGS; i++)
		rec->trace.args[i] = args->v[i];
	if (bpf_ringbuf_output(&events, rec, ENTER_RECORD_SIZE(nb_args), submit_flags()) < 0) {
		count_drop(SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
		return 1;
	}
	return 0;
}

/* Whether a captured syscall's enter reads anything: read's does not, and
 * its enter is the plain record (emit_enter), without the scratch copy. */
static __always_inline bool enter_captures(__u32 nr)
{
	const struct systrace_capture_spec *spec = &capture_specs[nr & (SYSTRACE_NR_SYSCALLS - 1)];

	return spec->enter_args || IS_KIND(spec->kind[0], SYSTRACE_CAPTURE_SIGFRAME_MASK);
}

/* The state of an enter's capture, shared with its per-argument step. */
struct enter_walk {
	struct pending_call pending; /* its args are the call's */
	__u32 nr;
	__u32 nb_args;
	__u32 off;
};

/* fcntl's commands that take a structure (the same numbers on x86_64
 * and aarch64): 1 for those that read one (F_SETLK, F_SETLKW,
 * F_OFD_SETLK, F_OFD_SETLKW: a struct flock; F_SETOWN_EX: a struct
 * f_owner_ex), 2 for those that write one (F_GETLK, F_OFD_GETLK,
 * F_GETOWN_EX), else 0. A struct f_owner_ex (8 bytes) is read as a
 * struct flock's size too, user space taking its first 8: one size keeps
 * the verifier's paths as they were (issue 15: start-up); memory past it
 * that cannot be read makes the capture fault, shown as the address. */
static __always_inline int flock_cmd(__u64 cmd)
{
	switch ((__u32)cmd) {
	case 6:
	case 7:
	case 37:
	case 38:
	case 15:
		return 1;
	case 5:
	case 36:
	case 16:
		return 2;
	}
	return 0;
}

/* The strings bpf(2)'s attr points to (SYSTRACE_CAPTURE_ATTR_STRINGS),
 * each an element of the slot `arg_flags` names: where the attr of
 * command `cmd` keeps them (enum bpf_cmd; offsets in union bpf_attr). A
 * NULL pointer has no element: user space pairs them with the pointers
 * that are set. BPF_BTF_LOAD's is not a string but btf_size bytes. */
static __always_inline __u32 capture_attr_strings(struct scratch *s, __u32 off, __u32 arg_flags,
						  __u64 cmd, __u64 attr)
{
	__u64 ptr = 0;
	__u32 first = 0, second = 0, len = 0;

	if (!attr)
		return off;
	switch ((__u32)cmd) {
	case 5: /* BPF_PROG_LOAD: license at 16, log_buf at 32 */
		first = 16;
		second = 32;
		break;
	case 6: /* BPF_OBJ_PIN: pathname */
	case 7: /* BPF_OBJ_GET */
	case 17: /* BPF_RAW_TRACEPOINT_OPEN: name */
		break;
	case 18: /* BPF_BTF_LOAD: btf, btf_size at 16 bytes */
		if (bpf_probe_read_user(&len, sizeof(len), (const void *)(attr + 16)))
			return off;
		break;
	default:
		return off;
	}
	if (bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(attr + first)))
		return off;
	if (ptr && (__u32)cmd == 18)
		off = capture_buffer(s, off, arg_flags, ptr, len);
	else if (ptr)
		off = capture_string(s, off, arg_flags, ptr);
	ptr = 0;
	if (second && !bpf_probe_read_user(&ptr, sizeof(ptr), (const void *)(attr + second)) && ptr)
		off = capture_string(s, off, arg_flags, ptr);
	return off;
}

/* One argument of an enter's capture: a global function called by a
 * bpf_loop() step, so that the verifier checks it once, not once per
 * argument and per path through the arguments before it (unrolled, this
 * loop was 80% of the hooks' verifier work: tens of milliseconds at every
 * load). Returns 1 to stop. */
__noinline long capture_enter_arg(struct scratch *s, struct enter_walk *w, __u32 i)
{
	struct systrace_capture_spec *spec;
	__u64 *args;
	__u32 off;
	__u8 kind;

	if (!s || !w)
		return 1;
	args = w->pending.args;
	off = w->off;

	barrier_var(i); /* the bound below is the one every use sees */
	if (i >= SYSTRACE_MAX_ARGS)
		return 1;
	spec = &capture_specs[w->nr & (SYSTRACE_NR_SYSCALLS - 1)];
	kind = spec->kind[i];
	/* The one kind in a slot past the call's arguments reads its own. */
	if (IS_KIND(kind, SYSTRACE_CAPTURE_ATTR_STRINGS)) {
		w->off = capture_attr_strings(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_ARGV_ELEM),
					      args[0], args[1]);
		return 0;
	}
	if (i >= w->nb_args)
		return 0; /* a slot past them may follow */
	if (IS_KIND(kind, SYSTRACE_CAPTURE_STRING) ||
	    IS_KIND(kind, SYSTRACE_CAPTURE_EXEC_FILENAME)) {
		w->off = capture_string(s, off, ARG_FLAGS(i, 0), args[i]);
		if (item_faulted(s, off))
			w->pending.retry_mask |= 1 << i;
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_BUFFER)) {
		__u32 what = socket_data_flag(s, &off, spec, ARG_FLAGS(i, 0), args[0],
					      data_flag(spec, i));

		w->off = capture_buffer(s, off, ARG_FLAGS(i, 0) | what, args[i],
					arg_at(args, spec->len_arg[i]));
		if (item_faulted(s, off))
			w->pending.retry_mask |= 1 << i;
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_ARGV)) {
		/* A forked child's copy of its parent's read-only data (the
		 * literals of execl("m4", "m4", "-P", NULL)) is mapped at its
		 * first touch, which only the exec makes: read again at exit. */
		bool faulted = false;

		w->off = capture_argv(s, off, i, args[i], &faulted);
		if (faulted)
			w->pending.retry_mask |= 1 << i;
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_STRUCT) ||
		   IS_KIND(kind, SYSTRACE_CAPTURE_INOUT_STRUCT)) {
		if (args[i]) {
			w->off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						spec->size[i]);
			/* An input the call only reads (a sigset, an address, a
			 * timespec), in a page not yet faulted in: the call faults
			 * it in, the exit reads it. */
			if (IS_KIND(kind, SYSTRACE_CAPTURE_STRUCT) && item_faulted(s, off))
				w->pending.retry_mask |= 1 << i;
		}
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_ARRAY)) {
		if (args[i])
			w->off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						spec->size[i] *
							(__u32)arg_at(args, spec->len_arg[i]));
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_IOVEC)) {
		/* A size is a fixed count (pselect6's sigmask pair is one), of
		 * structures (its sigset), not data that -s cuts. */
		__u64 count = spec->size[i] ? spec->size[i] : arg_at(args, spec->len_arg[i]);
		__u32 what = spec->size[i] ? ARG_STRUCT : 0;

		if (args[i])
			w->off = capture_iov(s, off,
					     ARG_FLAGS(i, SYSTRACE_CAPTURE_ARGV_ELEM) | what |
						     ((count & 0xffffffff) << 32),
					     args[i], ~0ULL);
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_MSGHDR)) {
		if (args[i]) {
			__u32 what = socket_data_flag(s, &off, spec, ARG_FLAGS(i, 0), args[0], 0);

			w->off = capture_msghdr(s, off, ARG_FLAGS(i, 0) | what, args[i], ~0ULL);
		}
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_MSGHDR)) {
		/* Its lengths as given: the call rewrites them. */
		if (args[i])
			w->off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						sizeof(struct msghdr_head));
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_MMSGHDR)) {
		/* recvmmsg's headers as given: their name lengths, which the
		 * call rewrites. */
		__u64 vlen = arg_at(args, spec->len_arg[i]);
		__u32 heads = vlen > SYSTRACE_MAX_ARGV ? SYSTRACE_MAX_ARGV : vlen;

		if (args[i] && spec->size[i])
			w->off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						sizeof(struct mmsghdr_head) * heads);
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_PTR_COUNT)) {
		if (args[i])
			w->off = capture_counted(s, off, ARG_FLAGS(i, 0), args[i], 0);
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_FLOCK)) {
		if (args[i] && flock_cmd(arg_at(args, spec->len_arg[i])) == 1)
			w->off = capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i],
						spec->size[i]);
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_COMMAND) && args[i]) {
		__u32 size = 0;
		int what = command_arg(spec->size[i], arg_at(args, spec->len_arg[i]), &size);

		if (what & COMMAND_READS)
			w->off =
				capture_buffer(s, off, ARG_FLAGS(i, 0) | ARG_STRUCT, args[i], size);
		else if (what == COMMAND_READS_STRING) {
			w->off = capture_string(s, off, ARG_FLAGS(i, 0), args[i]);
			if (item_faulted(s, off))
				w->pending.retry_mask |= 1 << i;
		}
	}
	return 0;
}

static long capture_enter_step(__u32 i, struct enter_walk *w)
{
	__u32 zero = 0;

	/* The scratch is looked up again, not kept in `w`: the verifier forgets
	 * what a global function's memory held once it was called. */
	return capture_enter_arg(bpf_map_lookup_elem(&scratch, &zero), w, i) ? 1 : 0;
}

/* Inlined: the exit hook's deepest chain (filter_exit, emit_held_enter,
 * here, the step, capture_counted's loop) is at the kernel's limit of 8
 * frames. */
static __always_inline int emit_enter_captured(__u32 nr, __u64 *args, __u32 nb_args, __u64 pid_tgid,
					       __u32 root)
{
	struct enter_walk w = { .pending = { .nr = nr }, .nr = nr, .nb_args = nb_args };
	struct systrace_enter_record *rec;
	struct pending_call *pending;
	__u32 zero = 0;
	struct scratch *s;

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
		w.pending.args[i] = args[i];
	}
	w.off = ENTER_RECORD_SIZE(nb_args & 7);
	if (IS_KIND(capture_specs[nr].kind[0], SYSTRACE_CAPTURE_SIGFRAME_MASK)) {
		struct pt_regs *regs = (void *)bpf_task_pt_regs(bpf_get_current_task_btf());
		__u64 sp = 0;

		if (regs && !bpf_probe_read_kernel(&sp, sizeof(sp), &regs->sp)) {
			w.off = capture_buffer(s, w.off, ARG_FLAGS(0, 0) | ARG_STRUCT,
					       sp + capture_specs[nr].size[0], sizeof(__u64));
			/* And the return register it restores: what the call
			 * returns, as the kernel reports no exit for it. */
			w.off = capture_buffer(s, w.off, ARG_FLAGS(1, 0) | ARG_STRUCT,
					       sp + capture_specs[nr].size[1], sizeof(__u64));
			/* And where the frame is: strace -e verbose=none shows the
			 * mask's address. */
			w.off = capture_value(s, w.off, ARG_FLAGS(2, 0), sp);
		} else {
			w.off = capture_mark(s, w.off, ARG_FLAGS(0, 0), SYSTRACE_CAPTURE_FAULTED);
		}
	}
	if (capture_specs[nr].enter_args)
		bpf_loop(capture_specs[nr].enter_args, capture_enter_step, &w, 0);
	/* The exit finds its pointers in the registers: only a capture to
	 * read again is kept for it. */
	if (w.pending.retry_mask) {
		pending = bpf_task_storage_get(&pending_calls, bpf_get_current_task_btf(), 0,
					       BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (pending)
			__builtin_memcpy(pending, &w.pending, sizeof(*pending));
	} else if (capture_specs[nr].retries) {
		/* A call whose exit was not seen (its hooks went away between
		 * its enter and exit) must not have this one read again. */
		pending = bpf_task_storage_get(&pending_calls, bpf_get_current_task_btf(), 0, 0);
		if (pending)
			pending->nr = -1;
	}
	return output(s, w.off, SYSTRACE_PHASE_ENTER, nr, pid_tgid, root);
}

/* The walk of an exec's argv read again at exit: the caller's array, or
 * the strings exec copied to the new image's stack. */
struct exec_walk {
	struct scratch *s;
	__u64 argv; /* the caller's array; 0: the new image's strings */
	__u64 p; /* the new image's next string */
	__u64 end;
	__u32 off;
	__u32 arg_flags;
	bool done;
};

/* One element of the list. The kernel wrote the new image's strings one
 * after the other, so the next begins past this one's NUL. (Not
 * capture_argv's walk: one more frame would go past the kernel's 8.) */
static long capture_exec_arg(__u32 j, struct exec_walk *w)
{
	struct systrace_capture_item *item;
	__u32 off = w->off;
	__u64 str = w->p;

	if (w->argv ? bpf_probe_read_user(&str, sizeof(str), (const void *)(w->argv + 8 * j)) < 0 ||
			      !str :
		      w->p >= w->end) {
		w->done = true;
		return 1;
	}
	if (j >= SYSTRACE_MAX_EXEC_ARGS || off >= CAPTURE_END)
		return 1; /* more than we keep: the list is cut (marked below) */
	w->off = capture_string(w->s, off, w->arg_flags, str);
	if (w->argv)
		return 0;
	item = (void *)&w->s->buf[off & SCRATCH_MASK];
	if (item->flags & (SYSTRACE_CAPTURE_TRUNCATED | SYSTRACE_CAPTURE_FAULTED))
		return 1; /* where the next one begins is not known: cut */
	w->p += item->len + 1;
	return 0;
}

/* An exec's filename, or its argv (ARGV_ELEM in `arg_flags`), that faulted
 * at enter, read again at exit: from the caller's memory if the exec failed
 * (the kernel's own reads fault it in); from the new image's stack if it
 * succeeded, where the kernel copied them (user space lines that argv up
 * with the enter's: a script's interpreter comes first). */
__noinline __u32 capture_exec_again(struct scratch *s, __u32 off, __u32 arg_flags, long ret,
				    __u64 ptr)
{
	struct exec_walk w = { .s = s, .off = off, .arg_flags = arg_flags };
	struct mm_struct *mm = NULL;

	if (!s)
		return off;
	if (!(arg_flags & (SYSTRACE_CAPTURE_ARGV_ELEM << 8))) {
		if (!ret)
			ptr = 0;
		if (!ret &&
		    (bpf_probe_read_kernel(&mm, sizeof(mm), &bpf_get_current_task_btf()->mm) ||
		     !mm || bpf_probe_read_kernel(&ptr, sizeof(ptr), &mm->env_end)))
			return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_FAULTED);
		return capture_string(s, off, arg_flags, ptr);
	}
	/* A successful exec's exit is execve's (execveat's too): its arg 2 is
	 * the environment (read as a list under the command's -v), whose
	 * strings the new image holds after argv's. */
	if (ret)
		w.argv = ptr;
	else if (bpf_probe_read_kernel(&mm, sizeof(mm), &bpf_get_current_task_btf()->mm) || !mm ||
		 bpf_probe_read_kernel(&w.p, sizeof(w.p),
				       (arg_flags & 0xff) == 2 ? &mm->arg_end : &mm->arg_start) ||
		 bpf_probe_read_kernel(&w.end, sizeof(w.end),
				       (arg_flags & 0xff) == 2 ? &mm->env_end : &mm->arg_end))
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_FAULTED);
	bpf_loop(SYSTRACE_MAX_EXEC_ARGS + 1, capture_exec_arg, &w, 0);
	if (w.done)
		return w.off;
	return capture_mark(s, w.off, arg_flags, SYSTRACE_CAPTURE_TRUNCATED);
}

/* The state of an exit's capture, shared with its per-argument step. No
 * pointers: the step is a global function, which sees this as plain
 * memory (it looks the scratch and the enter's pending_call up again). */
struct exit_walk {
	__u64 args[SYSTRACE_MAX_ARGS]; /* the call's, from the registers */
	long ret;
	__u32 nr;
	__u32 off;
	/* pending_call.retry_mask of the enter's captures to read again, 0
	 * without a pending_call of this call. */
	__u32 retry_mask;
};

/* A call interrupted by a signal, to be restarted (-ERESTARTSYS to
 * -ERESTART_RESTARTBLOCK): nanosleep has written the time left. */
static __always_inline bool restarting(long ret)
{
	return ret >= -516 && ret <= -512;
}

/* E2BIG: an extensible structure the kernel refused for its size, whose
 * size field it rewrote to the size it knows (perf_event_open's attr). */
#define SYSTRACE_E2BIG 7

/* One argument of an exit's capture, as capture_enter_arg for an enter.
 * Global: checked once, 2,900 verified instructions. As bpf_loop's
 * callback itself, the kernel checked its body until its states converged
 * (9,600 of the exit hook's 21,200). Returns 1 to end the walk. */
__noinline long capture_exit_arg(struct scratch *s, struct exit_walk *w, __u32 i)
{
	struct pending_call *pending = NULL;
	struct systrace_capture_spec *spec;
	__u32 arg_struct, off, size = 0;
	__u64 ptr, *args;
	int what;
	long ret;
	__u8 kind;

	barrier_var(i);
	i &= 7; /* the bound below is then the one the verifier sees in every use */
	if (!s || !w || i >= SYSTRACE_MAX_ARGS)
		return 1;
	off = w->off;
	args = w->args;
	ret = w->ret;
	if (w->retry_mask & (1 << i)) {
		pending = bpf_task_storage_get(&pending_calls, bpf_get_current_task_btf(), 0, 0);
		if (pending && pending->nr != w->nr)
			pending = NULL;
	}
	spec = &capture_specs[w->nr & (SYSTRACE_NR_SYSCALLS - 1)];
	kind = spec->kind[i];
	ptr = args[i];
	arg_struct = ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) | ARG_STRUCT;
	if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_BUFFER) && ret > 0 && ptr) {
		__u32 what = socket_data_flag(s, &off, spec, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
					      args[0], data_flag(spec, i));

		off = capture_buffer(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) | what, ptr,
				     ret);
	} else if ((IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_STRUCT) ||
		    IS_KIND(kind, SYSTRACE_CAPTURE_INOUT_STRUCT) ||
		    IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_SIZED)) &&
		   (ret >= 0 || restarting(ret) ||
		    (ret == -SYSTRACE_E2BIG && IS_KIND(kind, SYSTRACE_CAPTURE_INOUT_STRUCT))) &&
		   ptr)
		off = capture_exit_struct(s, off,
					  (__u64)spec->size[i] << 32 |
						  (__u64)(kind == SYSTRACE_CAPTURE_EXIT_SIZED)
							  << 31 |
						  (spec->len_arg[i] & 7) << 24 | arg_struct,
					  ptr, (const struct call_args *)args);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_ARRAY) && ret >= 0 && ptr)
		off = capture_buffer(s, off, arg_struct, ptr,
				     spec->size[i] * (__u32)arg_at(args, spec->len_arg[i]));
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_DIRENT_COUNT) && ret > 0 && ptr)
		off = capture_counted(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT), ptr, ret);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_IOVEC) && ptr)
		off = capture_iov(
			s, off,
			ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT | SYSTRACE_CAPTURE_ARGV_ELEM) |
				((arg_at(args, spec->len_arg[i]) & 0xffffffff) << 32),
			ptr, ret > 0 ? ret : 0);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_MSGHDR) && ret >= 0 && ptr) {
		__u32 what = socket_data_flag(s, &off, spec, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
					      args[0], 0);

		off = capture_msghdr(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) | what, ptr,
				     ret);
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_MMSGHDR) && (ret >= 0 || !spec->size[i]) &&
		   ptr) {
		/* sendmmsg's vlen messages (strace shows those not sent too,
		 * and all of them when it failed), or the ret that recvmmsg
		 * received. */
		__u64 count = spec->size[i] ? ret : arg_at(args, spec->len_arg[i]);

		off = capture_mmsg(s, off,
				   ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) | ARG_MMSG |
					   (spec->size[i] ? ARG_MSG_LEN : 0),
				   ptr, count > 0xffffffff ? 0xffffffff : count);
	} else if (IS_KIND(kind, SYSTRACE_CAPTURE_EXIT_ARRAY) && ret > 0 && ptr)
		off = capture_buffer(s, off, arg_struct, ptr, spec->size[i] * (__u32)ret);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_FLOCK) && ret >= 0 && ptr &&
		 flock_cmd(arg_at(args, spec->len_arg[i])) == 2)
		off = capture_buffer(s, off, arg_struct, ptr, spec->size[i]);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_COMMAND) && ret >= 0 && ptr &&
		 ((what = command_arg(spec->size[i], arg_at(args, spec->len_arg[i]), &size)) &
		  COMMAND_WRITES))
		off = (what & COMMAND_LIST) ?
			      capture_ifconf(s, off, arg_struct | (SYSTRACE_CAPTURE_ARGV_ELEM << 8),
					     ptr) :
			      capture_buffer(s, off, arg_struct, ptr, size);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_SOCKET_ENDS) &&
		 (ret >= 0 || ret == -SYSTRACE_EINPROGRESS))
		off = capture_socket_ends(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT), args[0]);
	else if (IS_KIND(kind, SYSTRACE_CAPTURE_NEW_FDS) && ret >= 0) {
		off = capture_new_fds(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
				      spec->size[i] >= 2 ? arg_at(args, spec->len_arg[i]) : 0,
				      spec->size[i] == 3 ? SYSTRACE_NEW_FDS_SCM_RIGHTS : ret);
		if (spec->size[i] == 1)
			off = capture_socket_ends(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
						  ret);
	} else if (pending && (pending->retry_mask & (1 << i)) &&
		   (IS_KIND(kind, SYSTRACE_CAPTURE_EXEC_FILENAME) ||
		    IS_KIND(kind, SYSTRACE_CAPTURE_ARGV)))
		off = capture_exec_again(
			s, off,
			ARG_FLAGS(i,
				  SYSTRACE_CAPTURE_AT_EXIT | (IS_KIND(kind, SYSTRACE_CAPTURE_ARGV) ?
								      SYSTRACE_CAPTURE_ARGV_ELEM :
								      0)),
			ret, pending->args[i]);
	else if (pending && (pending->retry_mask & (1 << i)) &&
		 (IS_KIND(kind, SYSTRACE_CAPTURE_BUFFER) ||
		  IS_KIND(kind, SYSTRACE_CAPTURE_STRUCT))) {
		/* One call for both: each call site is verified on its own. */
		bool whole = IS_KIND(kind, SYSTRACE_CAPTURE_STRUCT);

		off = capture_buffer(s, off,
				     ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) |
					     (whole ? ARG_STRUCT : data_flag(spec, i)),
				     pending->args[i],
				     whole ? spec->size[i] :
					     arg_at(pending->args, spec->len_arg[i]));
	} else if (pending && (pending->retry_mask & (1 << i)))
		off = capture_string(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT),
				     pending->args[i]);
	w->off = off;
	return 0;
}

static long capture_exit_step(__u32 i, struct exit_walk *w)
{
	__u32 zero = 0;

	return capture_exit_arg(bpf_map_lookup_elem(&scratch, &zero), w, i) ? 1 : 0;
}

/* The record's size after the exit item of a call whose exit reads its
 * data alone (spec->exit_data: read's), the item the walk would write,
 * without the walk (a tenth of read's exit, measured); 0 for any other
 * call (the caller tests exit_data first: no call for those). */
__noinline __u32 capture_exit_data(struct scratch *s, __u32 nr)
{
	const struct systrace_capture_spec *spec = &capture_specs[nr & (SYSTRACE_NR_SYSCALLS - 1)];
	__u32 off = sizeof(struct systrace_exit_record), i;
	__u64 args[SYSTRACE_MAX_ARGS], ptr;
	long ret;

	if (!s || !spec->exit_data)
		return 0;
	/* Read back from the record, as the walk's: the tests below then
	 * bound nothing the caller keeps, and the walk after a 0 is the one
	 * path it was (the exit's verifier count doubled otherwise). */
	ret = *(volatile long *)&((struct systrace_exit_record *)s->buf)->trace.ret;
	if (ret <= 0)
		return off; /* nothing was read: the record alone, as the walk's */
	i = spec->exit_data - 1;
	syscall_get_arguments((struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), args);
	ptr = arg_at(args, i);
	if (!ptr)
		return off;
	return capture_buffer(s, off, ARG_FLAGS(i, SYSTRACE_CAPTURE_AT_EXIT) | data_flag(spec, i),
			      ptr, ret);
}

static __noinline int emit_exit_captured(__u32 nr, long ret, __u64 pid_tgid, __u32 root)
{
	struct exit_walk w = { .ret = ret, .nr = nr };
	struct systrace_exit_record *rec;
	struct pending_call *pending = NULL;
	__u32 zero = 0, size;
	struct scratch *s;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || nr >= SYSTRACE_NR_SYSCALLS)
		return 0;
	rec = (void *)s->buf;
	fill_header(&rec->hdr, pid_tgid, root, SYSTRACE_PHASE_EXIT, 0);
	fill_entry(&rec->trace.ent, pid_tgid);
	rec->trace.nr = nr;
	rec->trace.ret = ret;
	/* read's data without the walk; one output for both (a second
	 * would be verified on each path here). */
	size = capture_specs[nr].exit_data ? capture_exit_data(s, nr) : 0;
	if (size)
		goto out;
	/* The walk reads the value back from the record: the verifier knows
	 * nothing of it there, so the paths that got here with different
	 * ranges of it (the raw hook's checks, a count's or a filter's tests)
	 * are one path through the walk, checked once: the raw exit's
	 * verified instructions 7,700 to 5,100 in the command's load, 14,300
	 * to 11,800 in the library's. */
	w.ret = *(volatile long *)&rec->trace.ret;
	if (capture_specs[nr].retries)
		pending = bpf_task_storage_get(&pending_calls, bpf_get_current_task_btf(), 0, 0);
	w.off = sizeof(*rec);
	w.retry_mask = pending && pending->nr == nr ? pending->retry_mask : 0;
	/* A successful execveat's exit is reported as execve's (so are the
	 * kernel's own events): what it reads again is execveat's filename
	 * and argv. Apart from the walk, which would otherwise be checked
	 * once more for this path's number (4,400 instructions). */
	if (pending && pending->nr != nr && pending->nr >= 0 &&
	    IS_KIND(capture_specs[nr].kind[0], SYSTRACE_CAPTURE_EXEC_FILENAME) &&
	    IS_KIND(capture_specs[pending->nr & (SYSTRACE_NR_SYSCALLS - 1)].kind[1],
		    SYSTRACE_CAPTURE_EXEC_FILENAME)) {
		__u32 off = w.off;

		/* execveat's filename and argv (its args 1 and 2) as items of
		 * the execve this exit is (args 0 and 1, of the same names). */
		if (pending->retry_mask & (1 << 1))
			off = capture_exec_again(s, off, ARG_FLAGS(0, SYSTRACE_CAPTURE_AT_EXIT), 0,
						 0);
		if (pending->retry_mask & (1 << 2))
			off = capture_exec_again(
				s, off,
				ARG_FLAGS(1, SYSTRACE_CAPTURE_AT_EXIT | SYSTRACE_CAPTURE_ARGV_ELEM),
				0, 0);
		pending->nr = -1;
		return output(s, off, SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
	}
	if (capture_specs[nr].exit_args && (capture_specs[nr].at_exit || w.retry_mask)) {
		/* The registers still hold the call's args (the per-syscall
		 * events' records do not have them, and compat calls never get
		 * here). */
		syscall_get_arguments(
			(struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf()), w.args);
		bpf_loop(capture_specs[nr].exit_args, capture_exit_step, &w, 0);
	}
	if (pending)
		pending->nr = -1;
	size = w.off;
out:
	return output(s, size, SYSTRACE_PHASE_EXIT, nr, pid_tgid, root);
}
