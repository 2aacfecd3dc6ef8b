#!/usr/bin/env python3
"""tests/lib/slowloris.py: a bounded slow-header attack on a loopback port

Usage: slowloris.py PORT CONNECTIONS SECONDS

Opens CONNECTIONS connections to 127.0.0.1:PORT, sends each the start of
a request (its request line and Host header), then one more header line a
second on every connection, and never ends a header block. A connection the
server answers or closes is opened again, so that CONNECTIONS stay open as
long as the server lets them; reopening stops after 4 * CONNECTIONS in
all. After SECONDS, or on SIGTERM, it closes every connection and exits.

Only 127.0.0.1 is ever a target. Prints "ready N" (the connections open)
once the first round is open, and at the end one line of counts:
"opened N dropped N refused N open-at-end N".
"""

import resource
import signal
import socket
import sys
import time

HOST = "127.0.0.1"
CONNECT_TIMEOUT_S = 2.0


class Stop(Exception):
    """SIGTERM: close everything and report, as at the deadline."""


def on_term(signum, frame):
    raise Stop()


def raise_fd_limit(want):
    """Room for every socket: the soft limit up to the hard one if needed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < want:
        new = want if hard == resource.RLIM_INFINITY else min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))


def open_one(port, serial):
    """A connection with its request begun, or None when it was refused."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.settimeout(CONNECT_TIMEOUT_S)
        s.connect((HOST, port))
        s.setblocking(False)
        s.send(b"GET /kv/slowloris.%d HTTP/1.1\r\nHost: %s\r\n" % (serial, HOST.encode()))
        return s
    except OSError:
        s.close()
        return None


def still_open(s):
    """False once the server answered (a 408, say) or closed the connection."""
    try:
        s.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True  # nothing to read: the server still waits for headers
    except OSError:
        return False
    return False  # an answer, or the end of the stream


def trickle(s, n):
    """One more header line; False when the connection is gone."""
    try:
        s.send(b"X-Slow-%d: %d\r\n" % (n, n))
        return True
    except BlockingIOError:
        return True  # the server reads nothing: the send buffer is full
    except OSError:
        return False


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: slowloris.py PORT CONNECTIONS SECONDS\n")
        return 2
    port, want, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    raise_fd_limit(want + 64)
    deadline = time.monotonic() + seconds
    opened = dropped = refused = 0
    max_opens = 4 * want
    conns = []

    def refill():
        nonlocal opened, refused
        while len(conns) < want and opened + refused < max_opens and time.monotonic() < deadline:
            s = open_one(port, opened + refused)
            if s is None:
                refused += 1
                continue
            opened += 1
            conns.append(s)

    signal.signal(signal.SIGTERM, on_term)
    try:
        refill()
        print("ready %d" % len(conns), flush=True)
        tick = 0
        while time.monotonic() < deadline:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
            tick += 1
            alive = []
            for s in conns:
                if still_open(s) and trickle(s, tick):
                    alive.append(s)
                else:
                    dropped += 1
                    s.close()
            conns[:] = alive
            refill()
    except Stop:
        pass
    left = len(conns)
    for s in conns:
        s.close()
    print("opened %d dropped %d refused %d open-at-end %d" % (opened, dropped, refused, left),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
