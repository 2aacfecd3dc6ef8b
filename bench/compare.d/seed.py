#!/usr/bin/env python3
"""bench/compare.d/seed.py: the benchmark's keys for the systems kv is
compared with, in each one's bulk-loading format.

  seed.py redis KEYS VALUE_BYTES          Redis protocol on stdout: one SET
                                          per key, for redis-cli --pipe
  seed.py etcd KEYS VALUE_BYTES DIR       JSON bodies for etcd's /v3/kv/txn,
                                          100 puts in each, as the files
                                          DIR/txn-NNNNN.json
  seed.py sqlite KEYS VALUE_BYTES FILE    a new SQLite database in WAL mode
                                          with the schema of kv.php, the
                                          keys written in one transaction

The keys are bench.k00000 .. bench.k(KEYS-1) and their values the JSON of
exactly VALUE_BYTES bytes that bench/seed writes into kv and bench/kv.lua
expects, {"id":"kNNNNN","pad":"xxx..."}, so every system holds the same
data.
"""
import base64
import json
import os
import sqlite3
import sys

# Puts per etcd transaction: below etcd's default --max-txn-ops (128).
TXN_PUTS = 100


def key(i):
    return "bench.k%05d" % i


def value(i, size):
    head = '{"id":"k%05d","pad":"' % i
    return head + "x" * max(size - len(head) - 2, 0) + '"}'


def redis(keys, size, out):
    for i in range(keys):
        args = [b"SET", key(i).encode(), value(i, size).encode()]
        out.write(b"*%d\r\n" % len(args))
        for a in args:
            out.write(b"$%d\r\n%s\r\n" % (len(a), a))


def b64(text):
    return base64.b64encode(text.encode()).decode()


def etcd(keys, size, directory):
    for first in range(0, keys, TXN_PUTS):
        puts = [{"requestPut": {"key": b64(key(i)), "value": b64(value(i, size))}}
                for i in range(first, min(first + TXN_PUTS, keys))]
        with open(os.path.join(directory, "txn-%05d.json" % first), "w") as f:
            json.dump({"success": puts}, f)


def sqlite(keys, size, path):
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, "
               "version INTEGER NOT NULL)")
    # The store's one versionstamp counter: a write takes the next one.
    db.execute("CREATE TABLE meta (id INTEGER PRIMARY KEY CHECK (id = 1), "
               "version INTEGER NOT NULL)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO kv (key, value, version) VALUES (?, ?, ?)",
                   ((key(i), value(i, size), i + 1) for i in range(keys)))
    db.execute("INSERT INTO meta (id, version) VALUES (1, ?)", (keys,))
    db.execute("COMMIT")
    db.close()


def main(argv):
    if len(argv) < 4 or argv[1] not in ("redis", "etcd", "sqlite") or \
            (argv[1] in ("sqlite", "etcd")) != (len(argv) == 5):
        sys.exit(__doc__)
    keys, size = int(argv[2]), int(argv[3])
    if argv[1] == "sqlite":
        sqlite(keys, size, argv[4])
    elif argv[1] == "etcd":
        etcd(keys, size, argv[4])
    else:
        redis(keys, size, sys.stdout.buffer)


if __name__ == "__main__":
    main(sys.argv)
