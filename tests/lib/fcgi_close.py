#!/usr/bin/env python3
"""fcgi_close.py: how kvd closes a FastCGI connection after its reply.

Usage: fcgi_close.py SOCKET MOUNT KEY read-whole|left-unread

Speaks FastCGI to kvd's own listening socket, as a web server would, one
request on a new connection that does not ask to be kept:

  read-whole   PUT MOUNT/KEY with a small JSON body sent whole, the record
               that ends the input included
  left-unread  PUT MOUNT/KEY declaring a body of 2 MiB (over any max_body)
               and sending 4 KiB of it, without the end of the input

It reads the reply up to FCGI_END_REQUEST and then until the connection
reaches end of file, and then writes one more stdin record to it. Prints
"STATUS written" when that write went through (kvd still reads the
connection: it shut down its side and waits for the web server to close,
as libfcgi does so that input still arriving cannot reset the connection
under the reply), or "STATUS closed" when the connection was gone (kvd
closed it at once). STATUS is the reply's status code. Exits 1 on a
protocol or socket error, or when anything took more than 10 s.
"""
import socket
import struct
import sys

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6
FCGI_RESPONDER = 1
REQUEST_ID = 1
TIMEOUT_S = 10


def record(kind, content=b""):
    return struct.pack(">BBHHBx", 1, kind, REQUEST_ID, len(content), 0) + content


def pair_length(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def params(pairs):
    body = b""
    for name, value in pairs.items():
        name, value = name.encode(), value.encode()
        body += pair_length(len(name)) + pair_length(len(value)) + name + value
    return record(FCGI_PARAMS, body) + record(FCGI_PARAMS)


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("the connection ended inside a record")
        data += chunk
    return data


def read_reply(sock):
    """The reply's stdout, read up to and with FCGI_END_REQUEST."""
    out = b""
    while True:
        _, kind, _, length, padding = struct.unpack(">BBHHBx", read_exact(sock, 8))
        content = read_exact(sock, length + padding)[:length]
        if kind == FCGI_STDOUT:
            out += content
        elif kind == FCGI_END_REQUEST:
            return out


def status_of(out):
    for line in out.split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            return line.split()[1].decode()
    return "none"


def main():
    if len(sys.argv) != 5 or sys.argv[4] not in ("read-whole", "left-unread"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    path, mount, key, mode = sys.argv[1:]
    if mode == "read-whole":
        body = b'{"value":{"closed":"at once"}}'
        declared, sent, end = len(body), body, record(FCGI_STDIN)
    else:
        declared, sent, end = 2 << 20, b"x" * 4096, b""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT_S)
    sock.connect(path)
    begin = struct.pack(">HB5x", FCGI_RESPONDER, 0)
    sock.sendall(record(FCGI_BEGIN_REQUEST, begin) + params({
        "REQUEST_METHOD": "PUT",
        "REQUEST_URI": f"{mount}/{key}",
        "SCRIPT_NAME": mount,
        "CONTENT_LENGTH": str(declared),
        "CONTENT_TYPE": "application/json",
        "REMOTE_ADDR": "127.0.0.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }) + record(FCGI_STDIN, sent) + end)
    status = status_of(read_reply(sock))
    while sock.recv(4096):
        pass
    try:
        sock.sendall(record(FCGI_STDIN, b"more"))
        state = "written"
    except (BrokenPipeError, ConnectionResetError):
        state = "closed"
    sock.close()
    print(status, state)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, EOFError) as e:
        print(f"fcgi_close.py: {e}", file=sys.stderr)
        sys.exit(1)
