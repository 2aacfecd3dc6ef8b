#!/usr/bin/env python3
"""bench/watch.py: what a change feed costs, against a running service

Usage: bench/watch.py latency BASE_URL ROUNDS
       bench/watch.py hold BASE_URL CLIENTS SECONDS

latency: ROUNDS times, one long-poll waits on a prefix of its own, then a
PUT under it is sent; prints one line with the time from sending the PUT
to the long-poll's whole answer (an upper bound on commit to answer:
the commit happens inside the PUT), p50 and p99 in ms, and the PUT's own
time for comparison. Nothing else runs meanwhile.

hold: keeps CLIENTS long-polls waiting for SECONDS on a prefix nobody
writes (each asks again at once when its wait ends), on one thread with
non-blocking sockets; prints "holding N" once all are sent, and at the end
how many answers came back and how many were not 200 (SIGTERM ends it
early, with that line).
"""
import http.client
import json
import selectors
import signal
import socket
import sys
import threading
import time
import urllib.parse


def split(base):
    u = urllib.parse.urlsplit(base)
    return u.hostname, u.port or 80, u.path.rstrip("/")


def request(conn, method, path, body=None):
    conn.request(method, path, body=body,
                 headers={"Content-Type": "application/json"} if body else {})
    resp = conn.getresponse()
    data = resp.read()
    return resp.status, data


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def latency(base, rounds):
    host, port, mount = split(base)
    poller = http.client.HTTPConnection(host, port, timeout=30)
    writer = http.client.HTTPConnection(host, port, timeout=30)
    status, data = request(writer, "GET", mount + "/benchwatch?changes=true")
    since = json.loads(data)["versionstamp"]
    answers, puts = [], []
    for i in range(rounds):
        got = {}

        def poll():
            st, body = request(poller, "GET", "%s/benchwatch?changes=true&since=%s&wait=10000"
                               % (mount, since))
            got["t"] = time.monotonic()
            got["status"], got["body"] = st, body

        t = threading.Thread(target=poll)
        t.start()
        # The long-poll must be parked before the write: give it time to
        # reach the service (its answer proves it waited for the write).
        time.sleep(0.02)
        t0 = time.monotonic()
        st, body = request(writer, "PUT", "%s/benchwatch.k%d" % (mount, i % 10),
                           json.dumps({"value": i}))
        t_put = time.monotonic()
        t.join()
        if st != 200 or got.get("status") != 200:
            sys.exit("round %d: PUT %s, poll %s" % (i, st, got.get("status")))
        changes = json.loads(got["body"])["changes"]
        if len(changes) != 1 or changes[0]["value"] != i:
            sys.exit("round %d: the long-poll answered %r" % (i, changes))
        since = json.loads(body)["versionstamp"]
        answers.append((got["t"] - t0) * 1000)
        puts.append((t_put - t0) * 1000)
    print("RESULT rounds=%d answer_p50_ms=%.2f answer_p99_ms=%.2f put_p50_ms=%.2f put_p99_ms=%.2f"
          % (rounds, percentile(answers, 50), percentile(answers, 99),
             percentile(puts, 50), percentile(puts, 99)))


def hold(base, clients, seconds):
    host, port, mount = split(base)
    sel = selectors.DefaultSelector()
    end = time.monotonic() + seconds
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    wait_ms = 30000
    answered = bad = 0
    query = "%s/benchidle?changes=true&wait=%d" % (mount, wait_ms)
    raw = ("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n"
           % (query, host)).encode()

    def send(sock):
        sock.sendall(raw)

    for _ in range(clients):
        s = socket.create_connection((host, port))
        send(s)
        sel.register(s, selectors.EVENT_READ, bytearray())
    print("holding %d" % clients, flush=True)
    while time.monotonic() < end and not stop:
        for key, _ in sel.select(timeout=min(0.5, max(0.0, end - time.monotonic()))):
            buf = key.data
            chunk = key.fileobj.recv(65536)
            if not chunk:
                bad += 1
                sel.unregister(key.fileobj)
                key.fileobj.close()
                continue
            buf += chunk
            head, sep, rest = bytes(buf).partition(b"\r\n\r\n")
            if not sep:
                continue
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                continue
            answered += 1
            if not head.startswith(b"HTTP/1.1 200"):
                bad += 1
            del buf[:]
            send(key.fileobj)
    print("RESULT clients=%d answered=%d bad=%d" % (clients, answered, bad), flush=True)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "latency":
        latency(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "hold":
        hold(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
