"""See what a program sent and received through sockets, fds passed
included: sendmsg's and recvmsg's msghdr in Call.args, iovecs and all."""
import array
import os
import socket
import threading

import systrace

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
r, w = os.pipe()
with systrace.enable("sendmsg", "recvmsg", strings=True) as session:
    # Two buffers and a descriptor (SCM_RIGHTS) in one message.
    a.sendmsg([b"hello, ", b"world"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [r]))])
    data, ancillary, _, _ = b.recvmsg(100, socket.CMSG_SPACE(4))

me = threading.get_native_id()
for call in systrace.calls(session):
    if call.tid != me:
        continue
    msg = call.args["msg"]
    print(call.name, [(iov["iov_base"], iov["iov_len"]) for iov in msg["msg_iov"]],
          "control bytes:", msg["msg_controllen"])
    print("  ", call.strace(column=0))
received = array.array("i", ancillary[0][2])
for fd in (r, w, *received):
    os.close(fd)
