#!/usr/bin/env python3
"""tests/lib/group_load.py: writers against a replicated group, each
request and answer recorded for tests/lib/group_check.py.

    group_load.py OUT SECONDS CLIENTS PREFIX URL...

Each of CLIENTS threads writes PREFIX.cC.kI = {"c": C, "i": I} for I = 0,
1, 2, ... at the site it believes is master (the first URL at first). A
307 moves it to the Location's site; a 503 or a failed connection to the
next site after a pause; either way it sends the same write again until a
200 acknowledges it, then goes on to the next I. It stops at SECONDS, or
earlier when the file OUT.stop appears. Every attempt is one line of OUT:
client, i, key, the site's URL, the status (0: no answer), the
versionstamp of a 200, the time of the answer and the time the request
was sent, in milliseconds.
"""
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse


def now_ms():
    return int(time.time() * 1000)


def put(base, key, body):
    """One PUT: (status, versionstamp or "", Location or "")."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("PUT", url.path + "/" + key, body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        vs = ""
        if resp.status == 200:
            vs = json.loads(data).get("versionstamp", "")
        return resp.status, vs, resp.getheader("Location") or ""
    except (OSError, http.client.HTTPException, ValueError):
        return 0, "", ""
    finally:
        conn.close()


def site_of(location, sites):
    for s in sites:
        if location.startswith(s + "/"):
            return s
    return None


def client(c, out, lock, sites, prefix, deadline, stop):
    target = sites[0]
    i = 0
    while now_ms() < deadline and not os.path.exists(stop):
        key = "%s.c%d.k%d" % (prefix, c, i)
        body = json.dumps({"value": {"c": c, "i": i}})
        sent = now_ms()
        status, vs, location = put(target, key, body)
        with lock:
            out.write("%d %d %s %s %d %s %d %d\n" % (c, i, key, target, status, vs or "-", now_ms(), sent))
            out.flush()
        if status == 200:
            i += 1
        elif status == 307 and site_of(location, sites):
            target = site_of(location, sites)
        else:
            target = sites[(sites.index(target) + 1) % len(sites)]
            time.sleep(0.05)


def main():
    out_path, seconds, clients, prefix = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    sites = sys.argv[5:]
    deadline = now_ms() + int(seconds * 1000)
    lock = threading.Lock()
    with open(out_path, "w") as out:
        threads = [threading.Thread(target=client,
                                    args=(c, out, lock, sites, prefix, deadline, out_path + ".stop"))
                   for c in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


if __name__ == "__main__":
    main()
