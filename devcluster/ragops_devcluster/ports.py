"""Free TCP ports on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket


def free_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel reports free right now.

    All sockets stay open until every port is chosen, so the kernel cannot hand out one twice.
    Another program may still grab a port before our process binds it; the start-up then fails
    with that component's log tail, and a retry picks new ports.
    """
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports
