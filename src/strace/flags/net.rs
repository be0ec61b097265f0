//! Socket constants: address families, socket types, message flags, and
//! the names of setsockopt/getsockopt options by level (the option tables
//! are generated: see generated/xlat.rs).
use super::{
    kind_then_flags, xval_or_unknown, Xlat, ETH_PROTOCOLS, INET_PROTOCOLS, IPV6_OPTIONS,
    IP_OPTIONS, NETLINK_PROTOCOLS, SOCKET_LEVELS, SOCKET_OPTIONS, TCP_OPTIONS, UDP_OPTIONS,
};

pub const ADDRESS_FAMILIES: Xlat = xlat![
    AF_UNSPEC,
    AF_UNIX,
    AF_INET,
    AF_AX25,
    AF_IPX,
    AF_APPLETALK,
    AF_NETROM,
    AF_BRIDGE,
    AF_ATMPVC,
    AF_X25,
    AF_INET6,
    AF_ROSE,
    AF_DECnet,
    AF_NETBEUI,
    AF_SECURITY,
    AF_KEY,
    AF_NETLINK,
    AF_PACKET,
    AF_ASH,
    AF_ECONET,
    AF_ATMSVC,
    AF_RDS,
    AF_SNA,
    AF_IRDA,
    AF_PPPOX,
    AF_WANPIPE,
    AF_LLC,
    AF_IB,
    AF_MPLS,
    AF_CAN,
    AF_TIPC,
    AF_BLUETOOTH,
    AF_IUCV,
    AF_RXRPC,
    AF_ISDN,
    AF_PHONET,
    AF_IEEE802154,
    AF_CAIF,
    AF_ALG,
    AF_NFC,
    AF_VSOCK,
    AF_XDP,
];

const SOCK_TYPE_MASK: u64 = 0x0f;
pub const SOCK_TYPES: Xlat = xlat![
    SOCK_STREAM,
    SOCK_DGRAM,
    SOCK_RAW,
    SOCK_RDM,
    SOCK_SEQPACKET,
    SOCK_DCCP,
];
pub const SOCK_TYPE_FLAGS: Xlat = xlat![SOCK_CLOEXEC, SOCK_NONBLOCK];

/// `SOCK_STREAM|SOCK_CLOEXEC`.
pub fn socket_type(value: u64) -> String {
    kind_then_flags(value, SOCK_TYPE_MASK, SOCK_TYPES, SOCK_TYPE_FLAGS)
}

pub const MSG_FLAGS: Xlat = xlat![
    MSG_OOB,
    MSG_PEEK,
    MSG_DONTROUTE,
    MSG_CTRUNC,
    MSG_TRUNC,
    MSG_DONTWAIT,
    MSG_EOR,
    MSG_WAITALL,
    MSG_FIN,
    MSG_SYN,
    MSG_CONFIRM,
    MSG_RST,
    MSG_ERRQUEUE,
    MSG_NOSIGNAL,
    MSG_MORE,
    MSG_WAITFORONE,
    MSG_FASTOPEN,
    MSG_CMSG_CLOEXEC,
];

/// SOL_NETLINK's options (linux/netlink.h).
const NETLINK_OPTIONS: Xlat = &[
    (1, "NETLINK_ADD_MEMBERSHIP"),
    (2, "NETLINK_DROP_MEMBERSHIP"),
    (3, "NETLINK_PKTINFO"),
    (4, "NETLINK_BROADCAST_ERROR"),
    (5, "NETLINK_NO_ENOBUFS"),
    (6, "NETLINK_RX_RING"),
    (7, "NETLINK_TX_RING"),
    (8, "NETLINK_LISTEN_ALL_NSID"),
    (9, "NETLINK_LIST_MEMBERSHIPS"),
    (10, "NETLINK_CAP_ACK"),
    (11, "NETLINK_EXT_ACK"),
    (12, "NETLINK_GET_STRICT_CHK"),
];

/// strace's sock_raw_options.
const RAW_OPTIONS: Xlat = &[(1, "ICMP_FILTER")];

/// A setsockopt/getsockopt level: `SOL_SOCKET`, `SOL_TCP`.
pub fn socket_level(level: u64) -> String {
    xval_or_unknown(SOCKET_LEVELS, level, "SOL_??")
}

/// An option name at its level, as strace names it (a number at the levels
/// it has no table for).
pub fn socket_option(level: u64, name: u64, getsockopt: bool) -> String {
    let (table, unknown) = match level as i32 {
        libc::SOL_SOCKET => {
            // One number, two names (asm-generic/socket.h: SO_GET_FILTER
            // is SO_ATTACH_FILTER): strace names it by the call.
            if getsockopt && name == libc::SO_ATTACH_FILTER as u64 {
                return "SO_GET_FILTER".to_owned();
            }
            (SOCKET_OPTIONS, "SO_???")
        }
        libc::SOL_IP => (IP_OPTIONS, "IP_???"),
        libc::SOL_IPV6 => (IPV6_OPTIONS, "IPV6_???"),
        libc::SOL_TCP => (TCP_OPTIONS, "TCP_???"),
        libc::SOL_UDP => (UDP_OPTIONS, "UDP_???"),
        libc::SOL_NETLINK => (NETLINK_OPTIONS, "NETLINK_???"),
        libc::SOL_RAW => (RAW_OPTIONS, "RAW_???"),
        _ => return name.to_string(),
    };
    xval_or_unknown(table, name, unknown)
}

/// socket()'s protocol, named by the family: `IPPROTO_TCP`, `NETLINK_ROUTE`.
pub fn socket_protocol(domain: u64, protocol: u64) -> String {
    match domain as i32 {
        libc::AF_INET | libc::AF_INET6 => xval_or_unknown(INET_PROTOCOLS, protocol, "IPPROTO_???"),
        libc::AF_NETLINK => xval_or_unknown(NETLINK_PROTOCOLS, protocol, "NETLINK_???"),
        // In network order: `htons(ETH_P_ALL)`.
        libc::AF_PACKET => format!(
            "htons({})",
            xval_or_unknown(
                ETH_PROTOCOLS,
                u64::from(u16::from_be(protocol as u16)),
                "ETH_P_???"
            )
        ),
        _ => protocol.to_string(),
    }
}
