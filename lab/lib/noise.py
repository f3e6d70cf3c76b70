#!/usr/bin/env python3
"""Paced channel noise from an associated lab station (stdlib only; runs in the guest).

usage: noise.py IFACE SECONDS RATE [MCAST_SHARE]

Sends RATE UDP datagrams a second for SECONDS from IFACE (SO_BINDTODEVICE): random payload
lengths 1..1400 with random bytes, to 255.255.255.255:7002 or, for a MCAST_SHARE fraction of them
(default 0.3), to a random 234.x.y.z:7003 group (ESP-TOUCH's own multicast range). Pacing is by
deadline (a slow iteration is made up by the next ones, at most 50 ms worth at once), so the
achieved rate stays at RATE under load as long as the machine keeps up. Prints one JSON line at the
end: sent, failed, seconds, achieved rate.
"""
import json
import os
import random
import socket
import sys
import time


def main():
    ifc, secs, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    mshare = float(sys.argv[4]) if len(sys.argv) > 4 else 0.3
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifc.encode())
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
    pool = os.urandom(1 << 16)
    gap = 1.0 / rate
    start = time.monotonic()
    end = start + secs
    nxt = start
    sent = failed = bcast = mcast = 0
    last_err = None
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if nxt > now:
            time.sleep(nxt - now)
        elif now - nxt > 0.05:
            nxt = now - 0.05  # never burst more than 50 ms worth
        nxt += gap
        n = random.randint(1, 1400)
        off = random.randrange(0, len(pool) - n)
        payload = pool[off:off + n]
        if random.random() < mshare:
            dest = ("234.%d.%d.%d" % (random.randint(0, 255), random.randint(0, 255), random.randint(1, 254)), 7003)
            mcast += 1
        else:
            dest = ("255.255.255.255", 7002)
            bcast += 1
        try:
            s.sendto(payload, dest)
            sent += 1
        except OSError as e:
            failed += 1
            last_err = str(e)
    took = time.monotonic() - start
    print(json.dumps({"iface": ifc, "sent": sent, "failed": failed, "broadcast": bcast, "multicast": mcast,
                      "seconds": round(took, 2), "rate": round(sent / took, 1) if took else 0,
                      "last_error": last_err}), flush=True)


if __name__ == "__main__":
    main()
