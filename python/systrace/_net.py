"""Socket addresses: the `struct sockaddr` captured of connect, bind and
sendto (strings=True), decoded by the native core (src/strace/sockaddr.rs)."""
from __future__ import annotations

from typing import NamedTuple, Optional

from . import _native


class SockAddr(NamedTuple):
    """A decoded `struct sockaddr`."""

    #: "AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"..., "AF_<number>" otherwise.
    family: str
    #: An IP address as text, or a unix socket's path ("@name" when abstract); else None.
    address: Optional[str]
    #: The port of an internet address; else None.
    port: Optional[int]
    #: An internet address off this host: not loopback, not unspecified.
    remote: bool


def sockaddr(data: Optional[bytes]) -> Optional[SockAddr]:
    """The address in `data`, e.g. `sockaddr(call.arg_bytes("uservaddr"))`
    for a connect traced with strings=True; None for None or for bytes too
    short to hold one."""
    if data is None:
        return None
    decoded = _native.decode_sockaddr(data)
    return None if decoded is None else SockAddr(*decoded)
