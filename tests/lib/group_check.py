#!/usr/bin/env python3
"""tests/lib/group_check.py: every acknowledged write of group_load.py
against a site's backup.

    group_check.py LOAD BACKUP PREFIX [NOT_BEFORE_MS SITE]

LOAD is group_load.py's record, BACKUP a site's GET /kv/?backup=true (JSON
lines). Fails when a write answered 200 is missing or holds another value,
when a key under PREFIX holds what no client sent, or when a client's
acknowledged versionstamps do not increase in the order it wrote. With
NOT_BEFORE_MS and SITE: also when SITE answered 200 to a write sent at or
after that time (a master cut off from its group: a write sent before the
cut may have been acknowledged by the others before it, however late its
answer came back). Prints the counts.
"""
import json
import sys


def main():
    load_path, backup_path, prefix = sys.argv[1:4]
    cut_ms, cut_site = (int(sys.argv[4]), sys.argv[5]) if len(sys.argv) > 5 else (None, None)
    sent = {}      # key -> value sent
    acked = {}     # key -> (client, i, versionstamp)
    attempts = 0
    problems = []
    with open(load_path) as f:
        for line in f:
            c, i, key, site, status, vs, _, t = line.split()
            c, i, status, t = int(c), int(i), int(status), int(t)
            attempts += 1
            sent[key] = {"c": c, "i": i}
            if status == 200:
                acked[key] = (c, i, vs)
                if cut_site is not None and site == cut_site and t >= cut_ms:
                    problems.append("%s was acknowledged by the cut-off site %s" % (key, site))
    store = {}
    with open(backup_path) as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                if rec["key"] == prefix or rec["key"].startswith(prefix + "."):
                    store[rec["key"]] = rec["value"]
    for key, (c, i, vs) in acked.items():
        if key not in store:
            problems.append("acknowledged %s (versionstamp %s) is missing" % (key, vs))
        elif store[key] != {"c": c, "i": i}:
            problems.append("acknowledged %s holds %r" % (key, store[key]))
    for key, value in store.items():
        if sent.get(key) != value:
            problems.append("%s holds %r, which no client sent" % (key, value))
    by_client = {}
    for key, (c, i, vs) in acked.items():
        by_client.setdefault(c, []).append((i, vs))
    for c, writes in by_client.items():
        writes.sort()
        for (i0, v0), (i1, v1) in zip(writes, writes[1:]):
            if v1 <= v0:
                problems.append("client %d: write %d got %s after write %d got %s" % (c, i1, v1, i0, v0))
    print("%d attempts, %d acknowledged writes, %d keys in the store" % (attempts, len(acked), len(store)))
    for p in problems[:20]:
        print("PROBLEM: " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
