#!/usr/bin/env python3
"""Generate src/strace/flags/generated/{xlat,ioctls}.rs: constant names as strace prints them.

The names are read from the kernel's UAPI headers (Debian's linux-libc-dev)
and, for the few the kernel does not export (the SOL_* socket levels), from
the C library's headers; the values are what the C compiler makes of them,
so that nothing here is a number typed by hand.

    python3 scripts/gen_flags.py            # writes src/strace/flags/generated/*.rs
    python3 scripts/gen_flags.py --check    # exit 1 if the files are stale

How names are chosen, as strace's own generators choose them:

* A table (`Table`) takes the ``#define NAME VALUE`` lines of some headers
  whose name matches a pattern and whose value is a number (an alias such as
  ``#define TCP_CM_INQ TCP_INQ`` names nothing new), in header order; the
  first name of a value wins. ``names`` lists them instead where a header
  mixes a table's names with others that share the prefix.
* The ioctl table (``IOCTLS``) follows maint/ioctls_gen.sh of strace: every
  ``#define NAME [X]_IO{,R,W,WR}(...)`` of the UAPI headers (each header
  compiled on its own; a definition that does not compile is left out and
  listed with -v), plus the plain hex numbers of the headers strace reads
  them from (the terminal ioctls of asm-generic/ioctls.h, the socket ioctls
  of linux/sockios.h...). Names of one number are sorted and joined with
  " or " (``BTRFS_IOC_CLONE or FICLONE``), a name that merely extends the
  previous one (``X`` and ``X_OLD``) dropped, as strace's ioctlsort does.

The values are this machine's (x86_64): the tables hold the asm-generic
values, which aarch64 shares; arch-specific headers (x86_64-linux-gnu/asm)
are not read.

Only the standard library and a C compiler (cc) are used.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from gen_metadata import rustfmt, update  # this directory: as the metadata tables are

INCLUDE = "/usr/include"
PACKAGES = ("linux-libc-dev", "libc6-dev")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, "src", "strace", "flags", "generated")


@dataclass
class Table:
    rust: str  # the Rust constant
    doc: str
    headers: tuple[str, ...]  # scanned for names, in this order, and included
    pattern: str = r"\w+"  # names taken (anchored)
    exclude: str | None = None  # names left out (anchored)
    # Explicit names, in this order, instead of the pattern.
    names: tuple[str, ...] = ()
    # Only `#define` at the start of a line (no space after `#`): headers
    # that indent the values of an option (`# define PR_FP_EXC_DIV`).
    column0: bool = False
    # Also enum members (`IPPROTO_TCP = 6,`), not only #defines.
    enums: bool = False
    # Stop scanning a header at the first line matching this.
    until: str | None = None
    # What the program that evaluates the names includes, when not the
    # scanned headers themselves (glibc's bits/ headers cannot be).
    include: tuple[str, ...] = ()
    # 32-bit flags: a negative int (`(1<<31)`) is its bit pattern.
    bits32: bool = False


TABLES = [
    Table(
        "SOCKET_LEVELS",
        "setsockopt/getsockopt levels (the kernel exports only SOL_SOCKET: the others are the C library's)",
        (
            "x86_64-linux-gnu/bits/in.h",
            "asm-generic/socket.h",
            "netinet/tcp.h",
            "netinet/udp.h",
            "linux/can.h",
            "x86_64-linux-gnu/bits/socket.h",
        ),
        pattern=r"SOL_\w+",
        include=("sys/socket.h", "netinet/in.h", "netinet/tcp.h", "netinet/udp.h", "linux/can.h"),
    ),
    Table(
        "SOCKET_OPTIONS",
        "SOL_SOCKET options",
        ("asm-generic/socket.h",),
        pattern=r"SO_\w+",
        include=("sys/socket.h", "asm-generic/socket.h"),
    ),
    Table(
        "TCP_OPTIONS",
        "SOL_TCP options",
        ("linux/tcp.h",),
        pattern=r"TCP_\w+",
        exclude=r"TCP_(MSS_\w+|REPAIR_(ON|OFF\w*)|MD5SIG_(MAXKEYLEN|FLAG_\w+)|RECEIVE_ZEROCOPY_\w+)",
    ),
    Table(
        "UDP_OPTIONS",
        "SOL_UDP options",
        ("linux/udp.h",),
        pattern=r"UDP_\w+",
        exclude=r"UDP_ENCAP_\w+",
    ),
    Table(
        "IP_OPTIONS",
        "SOL_IP options",
        ("linux/in.h",),
        pattern=r"(IP|MCAST)_\w+",
        exclude=r"IP_(PMTUDISC_\w+|DEFAULT_\w+)|MCAST_(EXCLUDE|INCLUDE)",
    ),
    Table(
        "IPV6_OPTIONS",
        "SOL_IPV6 options (the MCAST_* ones are shared with SOL_IP)",
        ("linux/in6.h", "linux/in.h"),
        pattern=r"(IPV6|MCAST)_\w+",
        exclude=r"MCAST_(EXCLUDE|INCLUDE)|IPV6_(FL_\w+|FLOWINFO_(FLOWLABEL|PRIORITY)|PRIORITY_\w+|TLV_\w+|PMTUDISC_\w+|"
        r"PREFER_SRC_\w+|MIN_MTU|SRCRT_\w+|OPT_\w+)",
    ),
    Table(
        "INET_PROTOCOLS",
        "IPPROTO_* (socket's protocol for AF_INET and AF_INET6)",
        ("linux/in.h", "linux/in6.h"),
        pattern=r"IPPROTO_\w+",
        exclude=r"IPPROTO_MAX",
        enums=True,
    ),
    Table(
        "NETLINK_PROTOCOLS",
        "NETLINK_* protocols (socket's protocol for AF_NETLINK)",
        ("linux/netlink.h",),
        pattern=r"NETLINK_\w+",
        until=r"#define\s+MAX_LINKS\b",
    ),
    Table(
        "NETLINK_TYPES",
        "netlink's control message types (below NLMSG_MIN_TYPE)",
        ("linux/netlink.h",),
        names=("NLMSG_NOOP", "NLMSG_ERROR", "NLMSG_DONE", "NLMSG_OVERRUN"),
    ),
    Table(
        "NETLINK_FLAGS",
        "nlmsg_flags of every message",
        ("linux/netlink.h",),
        names=("NLM_F_REQUEST", "NLM_F_MULTI", "NLM_F_ACK", "NLM_F_ECHO", "NLM_F_DUMP_INTR",
               "NLM_F_DUMP_FILTERED"),
    ),
    Table(
        "NETLINK_GET_FLAGS",
        "nlmsg_flags of a GET request (NLM_F_DUMP, both bits, first)",
        ("linux/netlink.h",),
        names=("NLM_F_DUMP", "NLM_F_ROOT", "NLM_F_MATCH", "NLM_F_ATOMIC"),
    ),
    Table(
        "NETLINK_NEW_FLAGS",
        "nlmsg_flags of a NEW request",
        ("linux/netlink.h",),
        names=("NLM_F_REPLACE", "NLM_F_EXCL", "NLM_F_CREATE", "NLM_F_APPEND"),
    ),
    Table(
        "NETLINK_DELETE_FLAGS",
        "nlmsg_flags of a DEL request",
        ("linux/netlink.h",),
        names=("NLM_F_NONREC", "NLM_F_BULK"),
    ),
    Table(
        "NETLINK_ACK_FLAGS",
        "nlmsg_flags of an NLMSG_ERROR",
        ("linux/netlink.h",),
        names=("NLM_F_CAPPED", "NLM_F_ACK_TLVS"),
    ),
    Table(
        "NLMSGERR_ATTRS",
        "an NLMSG_ERROR's extended ACK attributes",
        ("linux/netlink.h",),
        pattern=r"NLMSGERR_ATTR_\w+",
        exclude=r"NLMSGERR_ATTR_MAX",
        enums=True,
    ),
    Table(
        "RTM_TYPES",
        "NETLINK_ROUTE message types",
        ("linux/rtnetlink.h",),
        pattern=r"RTM_\w+",
        exclude=r"RTM_(BASE|MAX|NR_\w+|F_\w+|RTA|PAYLOAD)",
        enums=True,
    ),
    Table(
        "ARPHRD_TYPES",
        "ARPHRD_* hardware types (ifi_type)",
        ("linux/if_arp.h",),
        pattern=r"ARPHRD_\w+",
    ),
    Table(
        "IFF_FLAGS",
        "IFF_* interface flags (ifi_flags)",
        ("linux/if.h",),
        pattern=r"IFF_\w+",
        exclude=r"IFF_VOLATILE",
        enums=True,
    ),
    Table(
        "IFLA_ATTRS",
        "struct ifinfomsg's attributes",
        ("linux/if_link.h",),
        pattern=r"IFLA_\w+",
        until=r"\s*__IFLA_MAX\b",
        enums=True,
        include=("linux/rtnetlink.h", "linux/if_link.h"),
    ),
    Table(
        "RTEXT_FILTER_FLAGS",
        "IFLA_EXT_MASK's flags",
        ("linux/rtnetlink.h",),
        pattern=r"RTEXT_FILTER_\w+",
    ),
    Table(
        "RT_TABLES",
        "routing tables (rtm_table, RTA_TABLE)",
        ("linux/rtnetlink.h",),
        pattern=r"RT_TABLE_\w+",
        exclude=r"RT_TABLE_MAX",
        enums=True,
    ),
    Table(
        "RTPROT_NAMES",
        "routing protocols (rtm_protocol)",
        ("linux/rtnetlink.h",),
        pattern=r"RTPROT_\w+",
    ),
    Table(
        "RTN_TYPES",
        "route types (rtm_type)",
        ("linux/rtnetlink.h",),
        pattern=r"RTN_\w+",
        exclude=r"RTN_MAX",
        enums=True,
    ),
    Table(
        "RTM_F_FLAGS",
        "route flags (rtm_flags)",
        ("linux/rtnetlink.h",),
        pattern=r"RTM_F_\w+",
    ),
    Table(
        "RTA_ATTRS",
        "struct rtmsg's attributes",
        ("linux/rtnetlink.h",),
        pattern=r"RTA_\w+",
        exclude=r"RTA_(MAX|ALIGNTO|ALIGN|OK|NEXT|LENGTH|SPACE|DATA|PAYLOAD)",
        until=r"\s*__RTA_MAX\b",
        enums=True,
    ),
    Table(
        "IPTOS_FLAGS",
        "IP type of service bits (rtm_tos)",
        ("linux/ip.h",),
        names=("IPTOS_LOWDELAY", "IPTOS_THROUGHPUT", "IPTOS_RELIABILITY", "IPTOS_MINCOST"),
    ),
    Table(
        "NUD_STATES",
        "neighbour states (ndm_state)",
        ("linux/neighbour.h",),
        names=("NUD_NONE", "NUD_INCOMPLETE", "NUD_REACHABLE", "NUD_STALE", "NUD_DELAY", "NUD_PROBE",
               "NUD_FAILED", "NUD_NOARP", "NUD_PERMANENT"),
    ),
    Table(
        "NTF_FLAGS",
        "neighbour flags (ndm_flags)",
        ("linux/neighbour.h",),
        names=("NTF_USE", "NTF_SELF", "NTF_MASTER", "NTF_PROXY", "NTF_EXT_LEARNED", "NTF_OFFLOADED",
               "NTF_STICKY", "NTF_ROUTER"),
    ),
    Table(
        "NDA_ATTRS",
        "struct ndmsg's attributes",
        ("linux/neighbour.h",),
        pattern=r"NDA_\w+",
        until=r"\s*__NDA_MAX\b",
        enums=True,
    ),
    Table(
        "SOCK_DIAG_TYPES",
        "NETLINK_SOCK_DIAG message types",
        ("linux/inet_diag.h", "linux/sock_diag.h"),
        names=("TCPDIAG_GETSOCK", "DCCPDIAG_GETSOCK", "SOCK_DIAG_BY_FAMILY", "SOCK_DESTROY"),
    ),
    Table(
        "INET_DIAG_ATTRS",
        "struct inet_diag_msg's attributes",
        ("linux/inet_diag.h",),
        names=("INET_DIAG_NONE", "INET_DIAG_MEMINFO", "INET_DIAG_INFO", "INET_DIAG_VEGASINFO",
               "INET_DIAG_CONG", "INET_DIAG_TOS", "INET_DIAG_TCLASS", "INET_DIAG_SKMEMINFO",
               "INET_DIAG_SHUTDOWN", "INET_DIAG_DCTCPINFO", "INET_DIAG_PROTOCOL",
               "INET_DIAG_SKV6ONLY", "INET_DIAG_LOCALS", "INET_DIAG_PEERS", "INET_DIAG_PAD",
               "INET_DIAG_MARK", "INET_DIAG_BBRINFO", "INET_DIAG_CLASS_ID", "INET_DIAG_MD5SIG",
               "INET_DIAG_ULP_INFO", "INET_DIAG_SK_BPF_STORAGES", "INET_DIAG_CGROUP_ID",
               "INET_DIAG_SOCKOPT"),
    ),
    Table(
        "UNIX_DIAG_ATTRS",
        "struct unix_diag_msg's attributes",
        ("linux/unix_diag.h",),
        names=("UNIX_DIAG_NAME", "UNIX_DIAG_VFS", "UNIX_DIAG_PEER", "UNIX_DIAG_ICONS",
               "UNIX_DIAG_RQLEN", "UNIX_DIAG_MEMINFO", "UNIX_DIAG_SHUTDOWN", "UNIX_DIAG_UID"),
    ),
    Table(
        "UDIAG_SHOW",
        "struct unix_diag_req's udiag_show flags",
        ("linux/unix_diag.h",),
        names=("UDIAG_SHOW_NAME", "UDIAG_SHOW_VFS", "UDIAG_SHOW_PEER", "UDIAG_SHOW_ICONS",
               "UDIAG_SHOW_RQLEN", "UDIAG_SHOW_MEMINFO", "UDIAG_SHOW_UID"),
    ),
    Table(
        "SK_MEMINFO",
        "the indices of a socket's memory counters (*_DIAG_MEMINFO)",
        ("linux/sock_diag.h",),
        names=("SK_MEMINFO_RMEM_ALLOC", "SK_MEMINFO_RCVBUF", "SK_MEMINFO_WMEM_ALLOC",
               "SK_MEMINFO_SNDBUF", "SK_MEMINFO_FWD_ALLOC", "SK_MEMINFO_WMEM_QUEUED",
               "SK_MEMINFO_OPTMEM", "SK_MEMINFO_BACKLOG", "SK_MEMINFO_DROPS"),
    ),
    Table(
        "NDIAG_SHOW",
        "struct netlink_diag_req's ndiag_show flags",
        ("linux/netlink_diag.h",),
        names=("NDIAG_SHOW_MEMINFO", "NDIAG_SHOW_GROUPS", "NDIAG_SHOW_RING_CFG",
               "NDIAG_SHOW_FLAGS"),
    ),
    Table(
        "NETLINK_DIAG_ATTRS",
        "struct netlink_diag_msg's attributes",
        ("linux/netlink_diag.h",),
        names=("NETLINK_DIAG_MEMINFO", "NETLINK_DIAG_GROUPS", "NETLINK_DIAG_RX_RING",
               "NETLINK_DIAG_TX_RING", "NETLINK_DIAG_FLAGS"),
    ),
    Table(
        "NDIAG_FLAGS",
        "NETLINK_DIAG_FLAGS: a netlink socket's flags",
        ("linux/netlink_diag.h",),
        pattern=r"NDIAG_FLAG_\w+",
    ),
    Table(
        "PACKET_SHOW",
        "struct packet_diag_req's pdiag_show flags",
        ("linux/packet_diag.h",),
        pattern=r"PACKET_SHOW_\w+",
    ),
    Table(
        "PACKET_DIAG_ATTRS",
        "struct packet_diag_msg's attributes",
        ("linux/packet_diag.h",),
        names=("PACKET_DIAG_INFO", "PACKET_DIAG_MCLIST", "PACKET_DIAG_RX_RING",
               "PACKET_DIAG_TX_RING", "PACKET_DIAG_FANOUT", "PACKET_DIAG_UID",
               "PACKET_DIAG_MEMINFO", "PACKET_DIAG_FILTER"),
    ),
    Table(
        "PDI_FLAGS",
        "PACKET_DIAG_INFO's pdi_flags",
        ("linux/packet_diag.h",),
        pattern=r"PDI_\w+",
    ),
    Table(
        "TPACKET_VERSIONS",
        "a packet socket's ring version (PACKET_DIAG_INFO's pdi_version)",
        ("linux/if_packet.h",),
        names=("TPACKET_V1", "TPACKET_V2", "TPACKET_V3"),
    ),
    Table(
        "ETH_PROTOCOLS",
        "ETH_P_* (a packet socket's protocol)",
        ("linux/if_ether.h",),
        pattern=r"ETH_P_\w+",
        exclude=r"ETH_P_802_3_MIN",
    ),
    Table(
        "FIB_RULE_ACTIONS",
        "struct fib_rule_hdr's action (ip rule)",
        ("linux/fib_rules.h",),
        names=("FR_ACT_UNSPEC", "FR_ACT_TO_TBL", "FR_ACT_GOTO", "FR_ACT_NOP", "FR_ACT_RES3",
               "FR_ACT_RES4", "FR_ACT_BLACKHOLE", "FR_ACT_UNREACHABLE", "FR_ACT_PROHIBIT"),
    ),
    Table(
        "FIB_RULE_FLAGS",
        "struct fib_rule_hdr's flags",
        ("linux/fib_rules.h",),
        names=("FIB_RULE_PERMANENT", "FIB_RULE_INVERT", "FIB_RULE_UNRESOLVED",
               "FIB_RULE_IIF_DETACHED", "FIB_RULE_OIF_DETACHED", "FIB_RULE_FIND_SADDR"),
    ),
    Table(
        "FRA_ATTRS",
        "struct fib_rule_hdr's attributes",
        ("linux/fib_rules.h",),
        names=("FRA_UNSPEC", "FRA_DST", "FRA_SRC", "FRA_IIFNAME", "FRA_GOTO", "FRA_UNUSED2",
               "FRA_PRIORITY", "FRA_UNUSED3", "FRA_UNUSED4", "FRA_UNUSED5", "FRA_FWMARK",
               "FRA_FLOW", "FRA_TUN_ID", "FRA_SUPPRESS_IFGROUP", "FRA_SUPPRESS_PREFIXLEN",
               "FRA_TABLE", "FRA_FWMASK", "FRA_OIFNAME", "FRA_PAD", "FRA_L3MDEV",
               "FRA_UID_RANGE", "FRA_PROTOCOL", "FRA_IP_PROTO", "FRA_SPORT_RANGE",
               "FRA_DPORT_RANGE"),
    ),
    Table(
        "INET_DIAG_REQ_ATTRS",
        "struct inet_diag_req_v2's attributes",
        ("linux/inet_diag.h",),
        names=("INET_DIAG_REQ_NONE", "INET_DIAG_REQ_BYTECODE", "INET_DIAG_REQ_SK_BPF_STORAGES",
               "INET_DIAG_REQ_PROTOCOL"),
    ),
    Table(
        "RT_SCOPES",
        "routing scopes (ifa_scope, rtm_scope)",
        ("linux/rtnetlink.h",),
        pattern=r"RT_SCOPE_\w+",
        enums=True,
    ),
    Table(
        "IFA_ATTRS",
        "struct ifaddrmsg's attributes",
        ("linux/if_addr.h",),
        pattern=r"IFA_\w+",
        exclude=r"IFA_(MAX|F_\w+|RTA|PAYLOAD)",
        enums=True,
        include=("linux/rtnetlink.h", "linux/if_addr.h"),
    ),
    Table(
        "IFA_FLAGS",
        "IFA_F_* address flags",
        ("linux/if_addr.h",),
        pattern=r"IFA_F_\w+",
        include=("linux/rtnetlink.h", "linux/if_addr.h"),
    ),
    Table(
        "EPOLL_CTL_OPS",
        "epoll_ctl operations",
        ("linux/eventpoll.h",),
        pattern=r"EPOLL_CTL_\w+",
    ),
    Table(
        "EPOLL_FLAGS",
        "epoll_create1 flags",
        ("linux/eventpoll.h",),
        names=("EPOLL_CLOEXEC",),
    ),
    Table(
        "PRCTL_OPTIONS",
        "prctl options (the header indents its other names: `# define PR_FP_EXC_DIV`)",
        ("linux/prctl.h",),
        pattern=r"PR_\w+",
        column0=True,
    ),
    Table(
        "PR_SET_MM_FIELDS",
        "prctl PR_SET_MM's second argument",
        ("linux/prctl.h",),
        pattern=r"PR_SET_MM_\w+",
        exclude=r"PR_SET_MM_MAP_SIZE",
    ),
    Table(
        "PR_SET_VMA_ATTRS",
        "prctl PR_SET_VMA's second argument",
        ("linux/prctl.h",),
        pattern=r"PR_SET_VMA_\w+",
    ),
    Table(
        "SHUTDOWN_HOW",
        "shutdown's how (the C library's: the kernel does not export them)",
        ("x86_64-linux-gnu/sys/socket.h",),
        pattern=r"SHUT_\w+",
        enums=True,
        include=("sys/socket.h",),
    ),
    Table(
        "SECCOMP_MODES",
        "seccomp modes (prctl PR_SET_SECCOMP)",
        ("linux/seccomp.h",),
        pattern=r"SECCOMP_MODE_\w+",
    ),
    Table(
        "CAPABILITIES",
        "capabilities (prctl PR_CAPBSET_*)",
        ("linux/capability.h",),
        pattern=r"CAP_\w+",
    ),
    Table(
        "FADVISE",
        "posix_fadvise advice (fadvise64)",
        ("linux/fadvise.h",),
        pattern=r"POSIX_FADV_\w+",
    ),
    Table(
        "FALLOC_FLAGS",
        "fallocate's mode",
        ("linux/falloc.h",),
        pattern=r"FALLOC_FL_\w+",
    ),
    Table(
        "FS_FLAGS",
        "an inode's attributes (ioctl FS_IOC_GETFLAGS, FS_IOC_SETFLAGS; strace names 0x1000 FS_INDEX_FL)",
        ("linux/fs.h",),
        pattern=r"FS_\w+_FL",
        exclude=r"FS_BTREE_FL",
    ),
    Table(
        "MOUNT_FLAGS",
        "mount's flags (strace names 0x8000 MS_SILENT; the old magic MS_MGC_VAL is the decoder's)",
        ("linux/mount.h",),
        pattern=r"MS_\w+",
        exclude=r"MS_(VERBOSE|RMT_MASK|MGC_\w+)",
        bits32=True,
    ),
    Table(
        "RESOLVE_FLAGS",
        "openat2's struct open_how: how the path may be resolved",
        ("linux/openat2.h",),
        pattern=r"RESOLVE_\w+",
    ),
    Table(
        "FAN_CLASSES",
        "fanotify_init's notification class (its flags' FAN_ALL_CLASS_BITS)",
        ("linux/fanotify.h",),
        names=("FAN_CLASS_NOTIF", "FAN_CLASS_CONTENT", "FAN_CLASS_PRE_CONTENT"),
    ),
    Table(
        "FAN_INIT_FLAGS",
        "fanotify_init's flags other than the class",
        ("linux/fanotify.h",),
        names=("FAN_CLOEXEC", "FAN_NONBLOCK", "FAN_UNLIMITED_QUEUE", "FAN_UNLIMITED_MARKS", "FAN_ENABLE_AUDIT",
               "FAN_REPORT_PIDFD", "FAN_REPORT_TID", "FAN_REPORT_FID", "FAN_REPORT_DIR_FID", "FAN_REPORT_NAME",
               "FAN_REPORT_TARGET_FID"),
    ),
    Table(
        "FAN_MARK_FLAGS",
        "fanotify_mark's flags (FAN_MARK_INODE is 0, which strace shows as 0)",
        ("linux/fanotify.h",),
        names=("FAN_MARK_ADD", "FAN_MARK_REMOVE", "FAN_MARK_DONT_FOLLOW", "FAN_MARK_ONLYDIR", "FAN_MARK_MOUNT",
               "FAN_MARK_IGNORED_MASK", "FAN_MARK_IGNORED_SURV_MODIFY", "FAN_MARK_FLUSH", "FAN_MARK_FILESYSTEM",
               "FAN_MARK_EVICTABLE", "FAN_MARK_IGNORE"),
    ),
    Table(
        "FAN_EVENTS",
        "fanotify events (fanotify_mark's mask), without the unions (FAN_CLOSE, FAN_MOVE); the last three in "
        "the order of the strace of this Debian (6.1)",
        ("linux/fanotify.h",),
        names=("FAN_ACCESS", "FAN_MODIFY", "FAN_ATTRIB", "FAN_CLOSE_WRITE", "FAN_CLOSE_NOWRITE", "FAN_OPEN",
               "FAN_MOVED_FROM", "FAN_MOVED_TO", "FAN_CREATE", "FAN_DELETE", "FAN_DELETE_SELF", "FAN_MOVE_SELF",
               "FAN_OPEN_EXEC", "FAN_Q_OVERFLOW", "FAN_FS_ERROR", "FAN_OPEN_PERM", "FAN_ACCESS_PERM",
               "FAN_OPEN_EXEC_PERM", "FAN_ONDIR", "FAN_EVENT_ON_CHILD", "FAN_RENAME"),
    ),
    Table(
        "PTRACE_EVENTS",
        "ptrace's event stops (a wait status's bits 16-23)",
        ("linux/ptrace.h",),
        pattern=r"PTRACE_EVENT_\w+",
    ),
    Table(
        "PTRACE_OPTIONS",
        "ptrace's options (PTRACE_SEIZE's and PTRACE_SETOPTIONS' data)",
        ("linux/ptrace.h",),
        names=("PTRACE_O_TRACESYSGOOD", "PTRACE_O_TRACEFORK", "PTRACE_O_TRACEVFORK", "PTRACE_O_TRACECLONE",
               "PTRACE_O_TRACEEXEC", "PTRACE_O_TRACEVFORKDONE", "PTRACE_O_TRACEEXIT", "PTRACE_O_TRACESECCOMP",
               "PTRACE_O_EXITKILL", "PTRACE_O_SUSPEND_SECCOMP"),
    ),
    Table(
        "NT_TYPES",
        "ELF note types: ptrace's register sets (2 and 4 are named as strace names them, in the decoder)",
        ("linux/elf.h",),
        pattern=r"NT_\w+",
        exclude=r"NT_(GNU_\w+|PRFPREG|TASKSTRUCT)",
    ),
    Table(
        "DN_FLAGS",
        "directory notification events (fcntl F_NOTIFY)",
        ("linux/fcntl.h",),
        pattern=r"DN_\w+",
    ),
    Table(
        "MPOL_MODES",
        "memory policy modes (set_mempolicy, mbind)",
        ("linux/mempolicy.h",),
        pattern=r"MPOL_\w+",
        exclude=r"MPOL_(MAX|F_\w+|MF_\w+|MODE_FLAGS)",
        enums=True,
    ),
    Table(
        "MPOL_MODE_FLAGS",
        "memory policy mode flags (set_mempolicy, mbind)",
        ("linux/mempolicy.h",),
        names=("MPOL_F_STATIC_NODES", "MPOL_F_RELATIVE_NODES", "MPOL_F_NUMA_BALANCING"),
    ),
    Table(
        "MPOL_GET_FLAGS",
        "get_mempolicy flags",
        ("linux/mempolicy.h",),
        names=("MPOL_F_NODE", "MPOL_F_ADDR", "MPOL_F_MEMS_ALLOWED"),
    ),
    Table(
        "MBIND_FLAGS",
        "mbind flags",
        ("linux/mempolicy.h",),
        pattern=r"MPOL_MF_\w+",
        exclude=r"MPOL_MF_(INTERNAL|VALID)",
    ),
    Table(
        "TCXONC_ACTIONS",
        "ioctl TCXONC's argument",
        ("asm-generic/termbits.h",),
        names=("TCOOFF", "TCOON", "TCIOFF", "TCION"),
    ),
    Table(
        "TCFLSH_QUEUES",
        "ioctl TCFLSH's argument",
        ("asm-generic/termbits.h",),
        names=("TCIFLUSH", "TCOFLUSH", "TCIOFLUSH"),
    ),
    # perf_event_open's struct perf_event_attr (strace's perf.c) and flags.
    Table(
        "PERF_TYPES",
        "perf_event_attr's type",
        ("linux/perf_event.h",),
        pattern=r"PERF_TYPE_\w+",
        exclude=r"PERF_TYPE_MAX",
        enums=True,
    ),
    Table(
        "PERF_ATTR_SIZES",
        "perf_event_attr's size, by the version that added its last field",
        ("linux/perf_event.h",),
        pattern=r"PERF_ATTR_SIZE_VER\d+",
    ),
    Table(
        "PERF_HW_IDS",
        "a PERF_TYPE_HARDWARE event's config",
        ("linux/perf_event.h",),
        pattern=r"PERF_COUNT_HW_\w+",
        # The cache events' ids share the prefix (their own table below).
        exclude=r"PERF_COUNT_HW_(MAX|CACHE_(L1D|L1I|LL|DTLB|ITLB|BPU|NODE|MAX|OP_\w+|RESULT_\w+))",
        enums=True,
    ),
    Table(
        "PERF_HW_CACHE_IDS",
        "a PERF_TYPE_HW_CACHE event's cache (config's byte 0)",
        ("linux/perf_event.h",),
        names=tuple(f"PERF_COUNT_HW_CACHE_{n}" for n in ("L1D", "L1I", "LL", "DTLB", "ITLB", "BPU", "NODE")),
        enums=True,
    ),
    Table(
        "PERF_HW_CACHE_OPS",
        "a PERF_TYPE_HW_CACHE event's operation (config's byte 1)",
        ("linux/perf_event.h",),
        pattern=r"PERF_COUNT_HW_CACHE_OP_\w+",
        exclude=r"PERF_COUNT_HW_CACHE_OP_MAX",
        enums=True,
    ),
    Table(
        "PERF_HW_CACHE_RESULTS",
        "a PERF_TYPE_HW_CACHE event's result (config's byte 2)",
        ("linux/perf_event.h",),
        pattern=r"PERF_COUNT_HW_CACHE_RESULT_\w+",
        exclude=r"PERF_COUNT_HW_CACHE_RESULT_MAX",
        enums=True,
    ),
    Table(
        "PERF_SW_IDS",
        "a PERF_TYPE_SOFTWARE event's config",
        ("linux/perf_event.h",),
        pattern=r"PERF_COUNT_SW_\w+",
        exclude=r"PERF_COUNT_SW_MAX",
        enums=True,
    ),
    Table(
        "PERF_SAMPLE_FORMATS",
        "perf_event_attr's sample_type",
        ("linux/perf_event.h",),
        pattern=r"PERF_SAMPLE_\w+",
        exclude=r"PERF_SAMPLE_(MAX|BRANCH_\w+|REGS_ABI_\w+|WEIGHT_TYPE)",
        enums=True,
    ),
    Table(
        "PERF_READ_FORMATS",
        "perf_event_attr's read_format",
        ("linux/perf_event.h",),
        pattern=r"PERF_FORMAT_\w+",
        exclude=r"PERF_FORMAT_MAX",
        enums=True,
    ),
    Table(
        "AUDIT_TYPES",
        "NETLINK_AUDIT's message types (strace's nl_audit_types)",
        ("linux/audit.h",),
        names=(
            "AUDIT_GET", "AUDIT_SET", "AUDIT_LIST", "AUDIT_ADD", "AUDIT_DEL", "AUDIT_USER", "AUDIT_LOGIN",
            "AUDIT_WATCH_INS", "AUDIT_WATCH_REM", "AUDIT_WATCH_LIST", "AUDIT_SIGNAL_INFO", "AUDIT_ADD_RULE",
            "AUDIT_DEL_RULE", "AUDIT_LIST_RULES", "AUDIT_TRIM", "AUDIT_MAKE_EQUIV", "AUDIT_TTY_GET",
            "AUDIT_TTY_SET", "AUDIT_SET_FEATURE", "AUDIT_GET_FEATURE", "AUDIT_FIRST_USER_MSG",
            "AUDIT_USER_AVC", "AUDIT_USER_TTY", "AUDIT_LAST_USER_MSG", "AUDIT_DAEMON_START",
            "AUDIT_DAEMON_END", "AUDIT_DAEMON_ABORT", "AUDIT_DAEMON_CONFIG", "AUDIT_SYSCALL",
            "AUDIT_FS_WATCH", "AUDIT_PATH", "AUDIT_IPC", "AUDIT_SOCKETCALL", "AUDIT_CONFIG_CHANGE",
            "AUDIT_SOCKADDR", "AUDIT_CWD", "AUDIT_EXECVE", "AUDIT_IPC_SET_PERM", "AUDIT_MQ_OPEN",
            "AUDIT_MQ_SENDRECV", "AUDIT_MQ_NOTIFY", "AUDIT_MQ_GETSETATTR", "AUDIT_KERNEL_OTHER",
            "AUDIT_FD_PAIR", "AUDIT_OBJ_PID", "AUDIT_TTY", "AUDIT_EOE", "AUDIT_BPRM_FCAPS", "AUDIT_CAPSET",
            "AUDIT_MMAP", "AUDIT_NETFILTER_PKT", "AUDIT_NETFILTER_CFG", "AUDIT_SECCOMP", "AUDIT_PROCTITLE",
            "AUDIT_FEATURE_CHANGE", "AUDIT_REPLACE", "AUDIT_KERN_MODULE", "AUDIT_FANOTIFY",
            "AUDIT_TIME_INJOFFSET", "AUDIT_TIME_ADJNTPVAL", "AUDIT_BPF", "AUDIT_EVENT_LISTENER",
            "AUDIT_URINGOP", "AUDIT_OPENAT2", "AUDIT_DM_CTRL", "AUDIT_DM_EVENT", "AUDIT_AVC",
            "AUDIT_SELINUX_ERR", "AUDIT_AVC_PATH", "AUDIT_MAC_POLICY_LOAD", "AUDIT_MAC_STATUS",
            "AUDIT_MAC_CONFIG_CHANGE", "AUDIT_MAC_UNLBL_ALLOW", "AUDIT_MAC_CIPSOV4_ADD",
            "AUDIT_MAC_CIPSOV4_DEL", "AUDIT_MAC_MAP_ADD", "AUDIT_MAC_MAP_DEL", "AUDIT_MAC_IPSEC_ADDSA",
            "AUDIT_MAC_IPSEC_DELSA", "AUDIT_MAC_IPSEC_ADDSPD", "AUDIT_MAC_IPSEC_DELSPD",
            "AUDIT_MAC_IPSEC_EVENT", "AUDIT_MAC_UNLBL_STCADD", "AUDIT_MAC_UNLBL_STCDEL",
            "AUDIT_MAC_CALIPSO_ADD", "AUDIT_MAC_CALIPSO_DEL", "AUDIT_ANOM_PROMISCUOUS", "AUDIT_ANOM_ABEND",
            "AUDIT_ANOM_LINK", "AUDIT_ANOM_CREAT", "AUDIT_LAST_KERN_ANOM_MSG", "AUDIT_INTEGRITY_DATA",
            "AUDIT_INTEGRITY_METADATA", "AUDIT_INTEGRITY_STATUS", "AUDIT_INTEGRITY_HASH",
            "AUDIT_INTEGRITY_PCR", "AUDIT_INTEGRITY_RULE", "AUDIT_INTEGRITY_EVM_XATTR",
            "AUDIT_INTEGRITY_POLICY_RULE", "AUDIT_KERNEL", "AUDIT_FIRST_USER_MSG2", "AUDIT_LAST_USER_MSG2",
        ),
    ),
    # bpf(2)'s attrs (strace's bpf.c): the names of strace's tables.
    Table(
        "BPF_MAP_TYPES",
        "BPF_MAP_CREATE's map_type",
        ("linux/bpf.h",),
        pattern=r"BPF_MAP_TYPE_\w+",
        enums=True,
    ),
    Table(
        "BPF_MAP_FLAGS",
        "BPF_MAP_CREATE's map_flags",
        ("linux/bpf.h",),
        names=tuple(f"BPF_F_{n}" for n in (
            "NO_PREALLOC", "NO_COMMON_LRU", "NUMA_NODE", "RDONLY", "WRONLY", "STACK_BUILD_ID", "ZERO_SEED",
            "RDONLY_PROG", "WRONLY_PROG", "CLONE", "MMAPABLE", "PRESERVE_ELEMS", "INNER_MAP")),
        enums=True,
    ),
    Table(
        "BPF_ATTACH_TYPES",
        "BPF_PROG_ATTACH's and BPF_PROG_DETACH's attach_type (strace's bpf_attach_type)",
        ("linux/bpf.h",),
        names=(
            "BPF_CGROUP_INET_INGRESS", "BPF_CGROUP_INET_EGRESS", "BPF_CGROUP_INET_SOCK_CREATE",
            "BPF_CGROUP_SOCK_OPS", "BPF_SK_SKB_STREAM_PARSER", "BPF_SK_SKB_STREAM_VERDICT",
            "BPF_CGROUP_DEVICE", "BPF_SK_MSG_VERDICT", "BPF_CGROUP_INET4_BIND", "BPF_CGROUP_INET6_BIND",
            "BPF_CGROUP_INET4_CONNECT", "BPF_CGROUP_INET6_CONNECT", "BPF_CGROUP_INET4_POST_BIND",
            "BPF_CGROUP_INET6_POST_BIND", "BPF_CGROUP_UDP4_SENDMSG", "BPF_CGROUP_UDP6_SENDMSG",
            "BPF_LIRC_MODE2", "BPF_FLOW_DISSECTOR", "BPF_CGROUP_SYSCTL", "BPF_CGROUP_UDP4_RECVMSG",
            "BPF_CGROUP_UDP6_RECVMSG", "BPF_CGROUP_GETSOCKOPT", "BPF_CGROUP_SETSOCKOPT", "BPF_TRACE_RAW_TP",
            "BPF_TRACE_FENTRY", "BPF_TRACE_FEXIT", "BPF_MODIFY_RETURN", "BPF_LSM_MAC", "BPF_TRACE_ITER",
            "BPF_CGROUP_INET4_GETPEERNAME", "BPF_CGROUP_INET6_GETPEERNAME", "BPF_CGROUP_INET4_GETSOCKNAME",
            "BPF_CGROUP_INET6_GETSOCKNAME", "BPF_XDP_DEVMAP", "BPF_CGROUP_INET_SOCK_RELEASE",
            "BPF_XDP_CPUMAP", "BPF_SK_LOOKUP", "BPF_XDP", "BPF_SK_SKB_VERDICT", "BPF_SK_REUSEPORT_SELECT",
            "BPF_SK_REUSEPORT_SELECT_OR_MIGRATE", "BPF_PERF_EVENT", "BPF_TRACE_KPROBE_MULTI",
            "BPF_LSM_CGROUP",
        ),
        enums=True,
    ),
    Table(
        "BPF_PROG_TYPES",
        "BPF_PROG_LOAD's prog_type (strace's bpf_prog_types)",
        ("linux/bpf.h",),
        names=tuple(f"BPF_PROG_TYPE_{n}" for n in (
            "UNSPEC", "SOCKET_FILTER", "KPROBE", "SCHED_CLS", "SCHED_ACT", "TRACEPOINT", "XDP", "PERF_EVENT",
            "CGROUP_SKB", "CGROUP_SOCK", "LWT_IN", "LWT_OUT", "LWT_XMIT", "SOCK_OPS", "SK_SKB", "CGROUP_DEVICE",
            "SK_MSG", "RAW_TRACEPOINT", "CGROUP_SOCK_ADDR", "LWT_SEG6LOCAL", "LIRC_MODE2", "SK_REUSEPORT",
            "FLOW_DISSECTOR", "CGROUP_SYSCTL", "RAW_TRACEPOINT_WRITABLE", "CGROUP_SOCKOPT", "TRACING",
            "STRUCT_OPS", "EXT", "LSM", "SK_LOOKUP", "SYSCALL")),
        enums=True,
    ),
    Table(
        "BPF_PROG_FLAGS",
        "BPF_PROG_LOAD's prog_flags (strace's bpf_prog_flags)",
        ("linux/bpf.h",),
        names=("BPF_F_STRICT_ALIGNMENT", "BPF_F_ANY_ALIGNMENT", "BPF_F_TEST_RND_HI32", "BPF_F_TEST_STATE_FREQ",
               "BPF_F_SLEEPABLE"),
    ),
    Table(
        "BPF_TEST_RUN_FLAGS",
        "BPF_PROG_TEST_RUN's flags (strace's bpf_test_run_flags)",
        ("linux/bpf.h",),
        names=("BPF_F_TEST_RUN_ON_CPU", "BPF_F_TEST_XDP_LIVE_FRAMES"),
    ),
    Table(
        "BPF_ATTACH_FLAGS",
        "BPF_PROG_ATTACH's attach_flags, BPF_LINK_UPDATE's flags",
        ("linux/bpf.h",),
        names=("BPF_F_ALLOW_OVERRIDE", "BPF_F_ALLOW_MULTI", "BPF_F_REPLACE"),
    ),
    Table(
        "BPF_FILE_MODE_FLAGS",
        "the open_flags of the *_GET_FD_BY_ID and *_GET_NEXT_ID commands",
        ("linux/bpf.h",),
        names=("BPF_F_RDONLY", "BPF_F_WRONLY"),
        enums=True,
    ),
    Table(
        "BPF_MAP_UPDATE_ELEM_FLAGS",
        "BPF_MAP_UPDATE_ELEM's flags",
        ("linux/bpf.h",),
        names=("BPF_ANY", "BPF_NOEXIST", "BPF_EXIST", "BPF_F_LOCK"),
        enums=True,
    ),
    Table(
        "BPF_MAP_LOOKUP_ELEM_FLAGS",
        "BPF_MAP_LOOKUP_ELEM's flags",
        ("linux/bpf.h",),
        names=("BPF_ANY", "BPF_F_LOCK"),
        enums=True,
    ),
    Table(
        "PERF_EVENT_OPEN_FLAGS",
        "perf_event_open's flags",
        ("linux/perf_event.h",),
        pattern=r"PERF_FLAG_\w+",
    ),
]

# strace's maint/ioctls_gen.sh: headers whose ioctls are plain hex numbers of
# these types.
HEX_IOCTLS = [
    ("03", ("linux/hdreg.h",)),
    ("46", ("linux/fb.h",)),
    ("4B", ("linux/kd.h",)),
    ("4C", ("linux/loop.h",)),
    ("53", ("linux/cdrom.h",)),
    ("46|54|66|74", ("asm-generic/ioctls.h",)),
    ("56", ("linux/vt.h",)),
    ("89", ("asm-generic/sockios.h", "linux/sockios.h")),
    ("8B", ("linux/wireless.h",)),
]

IOCTL_DEFINE = re.compile(
    r"^[ \t]*#[ \t]*define[ \t]+([A-Z][A-Z0-9_]*)[ \t]+(?:[A-Z]+)?_S?(?:IO|IOW|IOR|IOWR|IOC)[ \t]*\([^)]",
    re.M,
)

# Tried in turn for a header that does not compile on its own.
PRELUDES = (
    "#include <linux/ioctl.h>\n#include <linux/types.h>\n",
    "#include <linux/ioctl.h>\n#include <sys/types.h>\n#include <stdint.h>\n"
    "#include <sys/socket.h>\n#include <sys/time.h>\n#include <time.h>\n",
)

DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![\w(])[ \t]*(.*)$")
DEFINE0 = re.compile(r"^#define[ \t]+([A-Za-z_]\w*)(?![\w(])[ \t]*(.*)$")
ENUM_MEMBER = re.compile(r"^[ \t]*([A-Z_][A-Z0-9_]*)[ \t]*(=[^,]*)?,?[ \t]*(/\*.*)?$")
# A number, maybe in parentheses, shifted or or-ed: no identifier.
NUMBER = re.compile(r"^[\s()0-9a-fA-FxXuUlL<|+~-]+$")


def strip_comment(value: str) -> str:
    value = re.sub(r"/\*.*?(\*/|$)", "", value)
    return value.split("//")[0].strip()


def header_text(header: str) -> str:
    with open(os.path.join(INCLUDE, header), errors="replace") as f:
        return f.read()


def table_names(t: Table) -> list[str]:
    if t.names:
        return list(t.names)
    want = re.compile(rf"(?:{t.pattern})\Z")
    drop = re.compile(rf"(?:{t.exclude})\Z") if t.exclude else None
    out: list[str] = []
    for header in t.headers:
        for line in header_text(header).splitlines():
            if t.until and re.match(t.until, line):
                break
            m = (DEFINE0 if t.column0 else DEFINE).match(line)
            name = None
            if m:
                value = strip_comment(m.group(2))
                if value and (NUMBER.match(value) or (t.enums and value == m.group(1))):
                    name = m.group(1)
            elif t.enums:
                e = ENUM_MEMBER.match(line)
                if e:
                    name = e.group(1)
            if name and want.match(name) and not (drop and drop.match(name)) and name not in out:
                out.append(name)
    return out


def evaluate(tmp: str, includes: list[str], names: list[str], prelude: str = "") -> tuple[dict[str, int] | None, str]:
    """The values of `names` after including `includes`, from a compiled
    program (signed 64-bit), or None and the compiler's errors."""
    src = [prelude, "#include <stdio.h>\n"]
    src += [f"#include <{h}>\n" for h in includes]
    src.append("int main(void) {\n")
    src += [f'printf("%s %lld\\n", "{n}", (long long)({n}));\n' for n in names]
    src.append("return 0;\n}\n")
    c, exe = os.path.join(tmp, "t.c"), os.path.join(tmp, "t")
    with open(c, "w") as f:
        f.write("".join(src))
    r = subprocess.run(["cc", "-w", "-D__EXPORTED_HEADERS__", "-o", exe, c], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout
    return {n: int(v) for n, v in (line.split() for line in out.splitlines())}, ""


def build_table(tmp: str, t: Table, notes: list[str]) -> list[tuple[int, str]]:
    names = table_names(t)
    if not names:
        raise SystemExit(f"{t.rust}: no names found in {', '.join(t.headers)}")
    values = compile_names(tmp, list(t.include or t.headers), names, ("",), notes)
    if not values:
        raise SystemExit(f"{t.rust}: {', '.join(t.headers)} do not compile")
    rows: list[tuple[int, str]] = []
    seen: set[int] = set()
    for n in names:
        v = values.get(n)
        if v is not None and v < 0 and t.bits32 and v >= -(1 << 31):
            v &= 0xFFFFFFFF
        if v is None or v < 0 or v in seen:
            continue
        seen.add(v)
        rows.append((v, n))
    return rows


def uapi_headers() -> list[str]:
    out = subprocess.run(["dpkg", "-L", "linux-libc-dev"], capture_output=True, text=True, check=True).stdout
    prefix = INCLUDE + "/"
    return sorted(
        p[len(prefix):]
        for p in out.splitlines()
        if p.endswith(".h") and p.startswith(prefix) and not p.startswith(prefix + "x86_64-linux-gnu/")
    )


def compile_names(
    tmp: str,
    includes: list[str],
    names: list[str],
    preludes: tuple[str, ...],
    notes: list[str],
    structs: dict[str, str] | None = None,
) -> dict[str, int]:
    """The values of `names`, leaving out those that do not compile (a
    definition under `#if 0`...); each prelude is tried in turn until all
    compile. `structs` (struct name -> header) adds the header of a struct
    the compiler finds incomplete (an ioctl's size is its argument's)."""
    best: dict[str, int] = {}
    for prelude in preludes:
        left = list(names)
        while left:
            values, errors = evaluate(tmp, includes, left, prelude)
            if values is not None:
                if len(values) > len(best):
                    best = values
                break
            missing = {
                structs[m] for m in re.findall(r"incomplete type .struct (\w+).", errors) if structs and m in structs
            }
            extra = "".join(f"#include <{h}>\n" for h in sorted(missing) if f"<{h}>" not in prelude)
            if extra:
                prelude += extra
                continue
            # Drop the names the compiler complained about (one per line of
            # main), and retry.
            with open(os.path.join(tmp, "t.c")) as f:
                lines = f.read().splitlines()
            first = next(i for i, line in enumerate(lines) if line.startswith("printf("))
            bad = {int(m) - 1 - first for m in re.findall(r"t\.c:(\d+):\d+", errors)}
            bad = {b for b in bad if 0 <= b < len(left)}
            if not bad:
                break
            left = [n for i, n in enumerate(left) if i not in bad]
        if len(best) == len(names):
            break
    for n in names:
        if n not in best:
            notes.append(f"{', '.join(includes)}: {n} does not compile")
    return best


def build_ioctls(tmp: str, notes: list[str]) -> list[tuple[int, str]]:
    headers = uapi_headers()
    structs: dict[str, str] = {}
    for header in headers:
        for name in re.findall(r"^struct (\w+) \{", header_text(header), re.M):
            structs.setdefault(name, header)
    found: dict[str, int] = {}  # name -> code; the first header wins
    for header in headers:
        names = [n for n in IOCTL_DEFINE.findall(header_text(header)) if n not in found]
        names = list(dict.fromkeys(names))
        if names:
            for n, v in compile_names(tmp, [header], names, PRELUDES, notes, structs).items():
                found.setdefault(n, v & 0xFFFFFFFF)
    for kind, hex_headers in HEX_IOCTLS:
        hexdef = re.compile(
            rf"^[ \t]*#[ \t]*define[ \t]+([A-Z][A-Z0-9_]*)[ \t]+(0x(?:{kind})[0-9A-Fa-f]{{2}})\b", re.M
        )
        for header in hex_headers:
            for name, value in hexdef.findall(header_text(header)):
                found.setdefault(name, int(value, 16))
    by_code: dict[int, list[str]] = collections.defaultdict(list)
    for name, code in found.items():
        by_code[code].append(name)
    rows = []
    for code in sorted(by_code):
        kept: list[str] = []
        for name in sorted(by_code[code]):
            if kept and name.startswith(kept[-1]):
                continue
            kept.append(name)
        rows.append((code, " or ".join(kept)))
    return rows


def package_versions() -> str:
    parts = []
    for pkg in PACKAGES:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        parts.append(f"{pkg} {r.stdout.strip() or '(not installed)'}")
    return ", ".join(parts)


def header(versions: str, what: str) -> str:
    return (
        f"// @generated by scripts/gen_flags.py from the headers of {versions}.\n"
        "// Do not edit; regenerate with `python3 scripts/gen_flags.py`.\n"
        f"// {what}\n\n"
    )


def render_xlat(versions: str, tables: list[tuple[Table, list[tuple[int, str]]]]) -> str:
    out = [header(versions, f"{len(tables)} tables of constant names.")]
    out.append("use crate::strace::flags::Xlat;\n")
    for t, rows in tables:
        out.append(f"\n/// {t.doc}: from {', '.join(t.headers)}.\n")
        out.append(f"pub const {t.rust}: Xlat = &[\n")
        out += [f'({v:#x}, "{n}"),\n' for v, n in rows]
        out.append("];\n")
    return "".join(out)


def render_ioctls(versions: str, rows: list[tuple[int, str]]) -> str:
    out = [header(versions, f"{len(rows)} ioctl numbers.")]
    out.append("/// ioctl numbers and their names (alternatives joined by \" or \"), sorted by number.\n")
    out.append("pub static IOCTLS: &[(u32, &str)] = &[\n")
    out += [f'({code:#010x}, "{names}"),\n' for code, names in rows]
    out.append("];\n")
    return "".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="compare instead of writing")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the definitions left out")
    opts = ap.parse_args()
    if shutil.which("cc") is None:
        raise SystemExit("a C compiler (cc) is needed")
    versions = package_versions()
    notes: list[str] = []
    stale = False
    with tempfile.TemporaryDirectory() as tmp:
        tables = [(t, build_table(tmp, t, notes)) for t in TABLES]
        ioctls = build_ioctls(tmp, notes)
        outputs = {
            "xlat.rs": render_xlat(versions, tables),
            "ioctls.rs": render_ioctls(versions, ioctls),
        }
        paths = []
        for name, text in outputs.items():
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            paths.append(path)
        rustfmt(paths)
        print(f"{len(tables)} tables, {len(ioctls)} ioctl numbers ({len(notes)} definitions left out: -v lists them)")
        if opts.verbose:
            for n in notes:
                print("  " + n)
        for name in outputs:
            with open(os.path.join(tmp, name)) as f:
                new = f.read()
            stale |= not update(os.path.join(opts.out_dir, name), new, opts.check)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
