// SPDX-License-Identifier: (MIT OR GPL-2.0)
/*
 * Lists read through pointers: iovec arrays with their data (readv,
 * writev) and msghdrs with their name, control data and iovecs (sendmsg,
 * recvmsg), as items flagged ARGV_ELEM, each a systrace_capture_elem then
 * its data.
 *
 * Part of capture.bpf.h, which includes it once, after capture_mark and
 * room_for: not a header of its own.
 */

/* One element of a list: a systrace_capture_elem, then up to `avail` bytes
 * at `ptr` (for ARG_STRUCT the whole of them, else the capture size). An
 * element is never left out, so that the list keeps its order: one that
 * cannot be read says so in its head. `off_flags`: the offset, then
 * ARG_FLAGS in the high half (BPF functions take five arguments). */
__noinline __u32 capture_elem(struct scratch *s, __u64 off_flags, __u64 ptr, __u64 len, __u64 avail)
{
	__u32 off = off_flags, arg_flags = off_flags >> 32;
	struct systrace_capture_elem *elem;
	struct systrace_capture_item *item;
	__u32 limit, n;

	if (!s)
		return off;
	if (off >= CAPTURE_END) {
		/* Over the record's budget: the list is cut. capture_mark's work,
		 * done here: one call deeper would pass the verifier's 8 frames. */
		if (off > CAPTURE_END + MARKS_ROOM)
			return off;
		barrier_var(off);
		off &= SCRATCH_MASK;
		item = (void *)&s->buf[off];
		item->arg = arg_flags & 0xff;
		item->flags = ((arg_flags >> 8) & 0xff) | SYSTRACE_CAPTURE_TRUNCATED;
		item->len = 0;
		return off + sizeof(*item);
	}
	limit = room_for(off + sizeof(*elem), arg_flags);
	n = avail > limit ? limit : avail;
	barrier_var(off); /* keep the mask: the compiler would drop it as a no-op */
	off &= SCRATCH_MASK;
	item = (void *)&s->buf[off];
	elem = (void *)&s->buf[off + sizeof(*item)];
	item->arg = arg_flags & 0xff;
	item->flags = (arg_flags >> 8) & 0xff;
	elem->ptr = ptr;
	elem->len = len;
	elem->avail = avail;
	if (n > SYSTRACE_MAX_CAPTURE)
		n = SYSTRACE_MAX_CAPTURE;
	if (n && bpf_probe_read_user(&s->buf[off + sizeof(*item) + sizeof(*elem)], n,
				     (const void *)ptr) < 0) {
		elem->avail = SYSTRACE_ELEM_FAULTED;
		n = 0;
	}
	item->len = sizeof(*elem) + n;
	return off + sizeof(*item) + sizeof(*elem) + n;
}

struct iov_walk {
	struct scratch *s;
	__u64 iov;
	__u64 count;
	__u64 left; /* bytes of data still to show */
	__u32 off;
	__u32 arg_flags;
	__u32 done; /* elements captured */
	bool faulted;
};

static long capture_iov_elem(__u32 j, struct iov_walk *w)
{
	__u64 iov[2] = {}; /* struct iovec: base, len */
	__u64 avail;

	if (j >= w->count || w->off >= CAPTURE_END)
		return 1;
	if (bpf_probe_read_user(iov, sizeof(iov), (const void *)(w->iov + 16 * (__u64)j)) < 0) {
		w->faulted = true;
		return 1;
	}
	avail = iov[1] < w->left ? iov[1] : w->left;
	w->left -= avail;
	w->off = capture_elem(w->s, w->off | (__u64)w->arg_flags << 32, iov[0], iov[1], avail);
	w->done = j + 1;
	return 0;
}

/* `flags_count`: ARG_FLAGS (with ARGV_ELEM) in the low half, the number of
 * iovecs in the high one (BPF functions take five arguments). The data of
 * the first `left` bytes is shown (readv's ret), each element's up to the
 * capture size; past SYSTRACE_MAX_ARGV elements the list is cut. */
static __always_inline __u32 capture_iov_inline(struct scratch *s, __u32 off, __u64 flags_count,
						__u64 iov, __u64 left)
{
	struct iov_walk w = { .s = s,
			      .iov = iov,
			      .count = flags_count >> 32,
			      .left = left,
			      .off = off,
			      .arg_flags = (__u32)flags_count | ARG_DATA };

	bpf_loop(SYSTRACE_MAX_ARGV, capture_iov_elem, &w, 0);
	if (w.faulted && !w.done) /* the array itself cannot be read */
		return capture_mark(s, w.off, w.arg_flags & ~(SYSTRACE_CAPTURE_ARGV_ELEM << 8),
				    SYSTRACE_CAPTURE_FAULTED);
	if (w.done < w.count)
		return capture_mark(s, w.off, w.arg_flags, SYSTRACE_CAPTURE_TRUNCATED);
	return w.off;
}

/* The same, checked once on its own (global): the per-argument steps that
 * call it are checked several times each (the lean exit's verified
 * instructions 5,100 to 4,400). capture_msghdr keeps the inlined one: a
 * call more there would pass the kernel's limit of 8 frames. */
__noinline __u32 capture_iov(struct scratch *s, __u32 off, __u64 flags_count, __u64 iov, __u64 left)
{
	if (!s)
		return off;
	return capture_iov_inline(s, off, flags_count, iov, left);
}

/* struct user_msghdr. */
struct msghdr_head {
	__u64 name;
	__u32 namelen;
	__u32 pad;
	__u64 iov;
	__u64 iovlen;
	__u64 control;
	__u64 controllen;
	__u32 flags;
	__u32 pad2;
};

/* struct mmsghdr: a msghdr, then the bytes sent or received of it. */
struct mmsghdr_head {
	struct msghdr_head hdr;
	__u32 len;
	__u32 pad;
};

/* In capture_msghdr's arg_flags: the msghdr is an mmsghdr's, whose head
 * element holds its msg_len too; with ARG_MSG_LEN, its data is shown up to
 * that msg_len (recvmmsg's: what it received). */
#define ARG_MMSG (1 << 18)
#define ARG_MSG_LEN (1 << 19)

/* The msghdr capture_msghdr reads, per CPU: on its stack it took 64 of the
 * 512 bytes the exit hook's deepest chain of calls may use (kernels that
 * give a called function no stack of its own count them all). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mmsghdr_head);
} msghdr_heads SEC(".maps");

/* A msghdr as a list: itself, its name, its control data, its iovecs. */
__noinline __u32 capture_msghdr(struct scratch *s, __u32 off, __u32 arg_flags, __u64 ptr,
				__u64 left)
{
	__u32 elem_flags = arg_flags | (SYSTRACE_CAPTURE_ARGV_ELEM << 8);
	__u64 count, size = sizeof(struct msghdr_head);
	struct mmsghdr_head *mm;
	struct msghdr_head *m;
	__u32 zero = 0;
	long err;

	mm = bpf_map_lookup_elem(&msghdr_heads, &zero);
	if (!s || !mm)
		return off;
	m = &mm->hdr;
	if (arg_flags & ARG_MMSG) {
		size = sizeof(*mm);
		err = bpf_probe_read_user(mm, sizeof(*mm), (const void *)ptr);
		if (arg_flags & ARG_MSG_LEN)
			left = mm->len;
	} else {
		err = bpf_probe_read_user(m, sizeof(*m), (const void *)ptr);
	}
	if (err < 0)
		return capture_mark(s, off, arg_flags, SYSTRACE_CAPTURE_FAULTED);
	off = capture_elem(s, off | (__u64)(elem_flags | ARG_STRUCT) << 32, ptr, size, size);
	off = capture_elem(s, off | (__u64)(elem_flags | ARG_STRUCT) << 32, m->name, m->namelen,
			   m->name ? m->namelen : 0);
	off = capture_elem(s, off | (__u64)(elem_flags | ARG_STRUCT) << 32, m->control,
			   m->controllen, m->control ? m->controllen : 0);
	count = m->iovlen > 0xffffffff ? 0xffffffff : m->iovlen;
	return capture_iov_inline(s, off, elem_flags | (count << 32), m->iov, left);
}

struct mmsg_walk {
	__u64 vec;
	__u32 count;
	__u32 off;
	__u32 arg_flags;
	__u32 done; /* messages captured */
};

static long capture_mmsg_elem(__u32 j, struct mmsg_walk *w)
{
	__u32 zero = 0;

	if (j >= w->count || w->off >= CAPTURE_END)
		return 1;
	w->off = capture_msghdr(bpf_map_lookup_elem(&scratch, &zero), w->off, w->arg_flags,
				w->vec + sizeof(struct mmsghdr_head) * (__u64)j, ~0ULL);
	w->done = j + 1;
	return 0;
}

/* An mmsghdr array of `count` messages, each a msghdr list (ARG_MMSG) one
 * after the other; past SYSTRACE_MAX_ARGV messages, or the record's budget,
 * the array is cut. Inlined into capture_exit_arg, a global function
 * checked once: a frame of its own made the walk of sendmmsg's messages
 * nine frames deep (the kernel's limit is 8). */
static __always_inline __u32 capture_mmsg(struct scratch *s, __u32 off, __u32 arg_flags, __u64 vec,
					  __u32 count)
{
	struct mmsg_walk w = { .vec = vec, .count = count, .off = off, .arg_flags = arg_flags };

	if (!s)
		return off;
	bpf_loop(SYSTRACE_MAX_ARGV, capture_mmsg_elem, &w, 0);
	if (w.done < count)
		return capture_mark(s, w.off, arg_flags | (SYSTRACE_CAPTURE_ARGV_ELEM << 8),
				    SYSTRACE_CAPTURE_TRUNCATED);
	return w.off;
}
