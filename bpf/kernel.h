/* SPDX-License-Identifier: (MIT OR GPL-2.0) */
/*
 * The few kernel types and per-architecture accessors the programs need,
 * declared with preserve_access_index so libbpf relocates every field access
 * against the running kernel's BTF (CO-RE). We declare only what we read
 * instead of shipping a generated vmlinux.h: the build then needs no header
 * taken from one particular kernel, and stays offline.
 */
#ifndef SYSTRACE_KERNEL_H
#define SYSTRACE_KERNEL_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
/* Referenced by bpf_helper_defs.h. */
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

/* Map definitions used by bpf_helpers.h macros. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_PERCPU_HASH = 5,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
};

/* Map flags (include/uapi/linux/bpf.h). */
enum {
	BPF_F_NO_PREALLOC = 1,
	BPF_F_MMAPABLE = 1 << 10,
};

enum {
	BPF_LOCAL_STORAGE_GET_F_CREATE = 1,
};

enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
};

enum {
	BPF_RB_AVAIL_DATA = 0,
};

#if defined(__TARGET_ARCH_x86)

struct pt_regs {
	unsigned long r10;
	unsigned long r9;
	unsigned long r8;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
	unsigned long sp;
} __attribute__((preserve_access_index));

struct thread_info {
	__u32 status;
} __attribute__((preserve_access_index));

/* arch/x86/include/asm/thread_info.h: set while in an ia32 syscall. */
#define SYSTRACE_TS_COMPAT 0x0002

#elif defined(__TARGET_ARCH_arm64)

/* regs[] sits in an anonymous union in the kernel; libbpf's field matching
 * looks through anonymous members. */
struct pt_regs {
	__u64 regs[31];
	__u64 sp;
	__u64 orig_x0;
	__s32 syscallno;
} __attribute__((preserve_access_index));

struct thread_info {
	unsigned long flags;
} __attribute__((preserve_access_index));

/* arch/arm64/include/asm/thread_info.h: a 32-bit (compat) task. */
#define SYSTRACE_TIF_32BIT 22

#else
#error "systrace supports x86_64 and aarch64 (define __TARGET_ARCH_x86 or __TARGET_ARCH_arm64)"
#endif

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live; /* threads not yet exiting: 0 once the last one exits */
	int group_exit_code;
	unsigned int flags;
} __attribute__((preserve_access_index));

/* include/linux/sched/signal.h: signal_struct.flags of a process exiting
 * as a group. */
#define SYSTRACE_SIGNAL_GROUP_EXIT 0x00000004
/* include/trace/events/signal.h: signal_generate's result. */
#define SYSTRACE_TRACE_SIGNAL_DELIVERED 0
#define SYSTRACE_TRACE_SIGNAL_IGNORED 1
/* include/uapi/asm-generic/siginfo.h: a signal the kernel sent. */
#define SYSTRACE_SI_KERNEL 0x80

/* What an fd refers to (SYSTRACE_CAPTURE_NEW_FDS reads its inode number;
 * a socket's data reads its family and protocol). */
struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
} __attribute__((preserve_access_index));

struct file {
	struct inode *f_inode;
	void *private_data; /* a socket file's struct socket */
} __attribute__((preserve_access_index));

struct in6_addr {
	__u8 s6_addr[16];
} __attribute__((preserve_access_index));

/* An inet socket's ends (SYSTRACE_CAPTURE_SOCKET_ENDS): the kernel keeps
 * the local port in host order (skc_num), the peer's in network order. */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr; /* CONFIG_IPV6 only */
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct socket;

struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	struct socket *sk_socket; /* NULL until accept grafts a new one */
} __attribute__((preserve_access_index));

struct socket {
	struct sock *sk;
} __attribute__((preserve_access_index));

/* A socket's inode is allocated with it (SOCK_INODE). */
struct socket_alloc {
	struct socket socket;
	struct inode vfs_inode;
} __attribute__((preserve_access_index));

struct sockaddr_un {
	unsigned short sun_family;
	char sun_path[108];
} __attribute__((preserve_access_index));

/* A bound unix socket's address: `len` bytes of `name` (its family, then
 * the path with its NUL, or an abstract name: a NUL, then exactly its
 * bytes). */
struct unix_address {
	int len;
	struct sockaddr_un name[0];
} __attribute__((preserve_access_index));

struct unix_sock {
	struct unix_address *addr;
	struct sock *peer;
} __attribute__((preserve_access_index));

/* A netlink socket's port id: 0 until it is bound (or autobound by its
 * first send). */
struct netlink_sock {
	__u32 portid;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

/* Where exec put the new image's argv strings, then its environment's (from
 * arg_end), and after them the filename it was given (fs/exec.c,
 * create_elf_tables). */
struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long env_end;
} __attribute__((preserve_access_index));

/* SECCOMP_MODE_FILTER in mode: the thread's calls pass a filter before
 * the enter tracepoint, which never sees the ones it refuses. */
struct seccomp {
	int mode;
} __attribute__((preserve_access_index));

/* A thread's own pending signals (the kernel's sigset_t: one word of 64
 * signals here). A fatal signal's group exit, and another thread's exec,
 * add SIGKILL to each thread's set as they kill it. */
struct kernel_sigset {
	unsigned long sig[1];
} __attribute__((preserve_access_index));

#define SIGKILL_BIT (1UL << (9 - 1))

struct sigpending {
	struct kernel_sigset signal;
} __attribute__((preserve_access_index));

/* A CPU's runqueue and its two clocks, brought up to date together:
 * clock_task leaves out what the kernel accounts apart (the time the
 * hypervisor took, steal; interrupts, where accounted). */
struct rq {
	__u64 clock;
	__u64 clock_task;
} __attribute__((preserve_access_index));

struct task_group;

struct cfs_rq {
	struct rq *rq;
	struct task_group *tg;
} __attribute__((preserve_access_index));

/* Its cfs_rq on each CPU, by CPU number. */
struct task_group {
	struct cfs_rq **cfs_rq;
} __attribute__((preserve_access_index));

/* What the scheduler has accounted of a thread's CPU time: the time it
 * ran up to exec_start (in its CPU's clock_task), which it brings up to
 * date at each switch and tick. */
struct sched_entity {
	__u64 exec_start;
	__u64 sum_exec_runtime;
	struct cfs_rq *cfs_rq;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	struct sched_entity se;
	struct mm_struct *mm;
	int pid;
	int tgid;
	char comm[16];
	int exit_code;
	struct signal_struct *signal;
	struct files_struct *files;
	unsigned long nvcsw; /* context switches: voluntary */
	unsigned long nivcsw; /* and not */
	struct seccomp seccomp;
	struct sigpending pending;
} __attribute__((preserve_access_index));

/* Read raw (bpf_probe_read_kernel): its layout is siginfo_t's, an ABI. */
struct kernel_siginfo;

struct sigaction {
	void *sa_handler;
} __attribute__((preserve_access_index));

struct k_sigaction {
	struct sigaction sa;
} __attribute__((preserve_access_index));

#endif /* SYSTRACE_KERNEL_H */
