#!/usr/bin/env python3
"""A flood of bogus HTTP against a SoftAP device (stdlib only; runs in the guest as another station).

usage: http_flood.py HOST PORT SECONDS [WORKERS_PER_KIND]

For SECONDS, WORKERS_PER_KIND (default 3) threads of each kind below hammer HOST:PORT, each
reconnecting as soon as its connection ends:

  slowloris   a request head sent one header line every 2 s, never finished
  silent      connects and sends nothing (half-open from the HTTP point of view)
  idle        one valid GET, then holds the keep-alive connection open without asking anything
  garbage     random bytes as a request (no CRLF structure), reads the answer
  huge        POST /prov-config with Content-Length: 99999999999 and a few bytes of body
  cookie      POST /prov-session with a random session cookie and a random body
  session     POST /prov-session with a bogus SessionData (sec_ver 2, Sec2 command 0 with a random
              username and a random 384-byte "public key"), no cookie
  protover    POST /proto-ver with a random cookie (starts no real session)
  config      POST /prov-config with random bytes (an "encrypted" config without a session)

Prints one JSON object at the end: connections opened, connect failures, requests sent (complete
requests), per-kind counts, answers by status, how many connections the device closed without an
answer or reset, and the most connections this process had open at once.
"""
import json
import os
import random
import socket
import sys
import threading
import time

HOST, PORT, SECONDS = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
PER_KIND = int(sys.argv[4]) if len(sys.argv) > 4 else 3
END = time.monotonic() + SECONDS
LOCK = threading.Lock()
STATS = {"connections": 0, "connect_failed": 0, "requests": 0, "closed_without_answer": 0,
         "reset": 0, "answers": {}, "kinds": {}, "open_now": 0, "max_open": 0}


def bump(key, n=1, kind=None):
    with LOCK:
        STATS[key] = STATS.get(key, 0) + n
        if kind is not None:
            k = STATS["kinds"].setdefault(kind, {"connections": 0, "requests": 0})
            if key in k:
                k[key] += n


def opened(kind):
    with LOCK:
        STATS["connections"] += 1
        STATS["kinds"].setdefault(kind, {"connections": 0, "requests": 0})["connections"] += 1
        STATS["open_now"] += 1
        STATS["max_open"] = max(STATS["max_open"], STATS["open_now"])


def closed():
    with LOCK:
        STATS["open_now"] -= 1


def request_sent(kind):
    with LOCK:
        STATS["requests"] += 1
        STATS["kinds"][kind]["requests"] += 1


def connect(kind):
    try:
        s = socket.create_connection((HOST, PORT), timeout=5)
    except OSError:
        bump("connect_failed")
        time.sleep(0.1)
        return None
    opened(kind)
    return s


def read_answer(s, timeout=5.0):
    """Reads until the status line is complete (or the server closes); records the outcome."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data and len(data) < 4096:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        bump("reset")
        return None
    except OSError:
        return None
    if not data:
        bump("closed_without_answer")
        return None
    parts = data.split(b" ", 2)
    status = parts[1].decode(errors="replace") if len(parts) > 1 else "?"
    with LOCK:
        STATS["answers"][status] = STATS["answers"].get(status, 0) + 1
    return status


def hold(s, seconds):
    """Keeps s open (reading whatever comes) until the server closes it, time is up, or seconds pass."""
    stop = min(END, time.monotonic() + seconds)
    s.settimeout(0.5)
    while time.monotonic() < stop:
        try:
            if not s.recv(4096):
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def ld(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def bogus_session():
    user = os.urandom(random.randint(1, 16)).hex().encode()
    cmd0 = ld(1, user) + ld(2, b"\x7f" + os.urandom(383))
    sec2 = b"\x08\x00" + ld(20, cmd0)
    return b"\x10\x02" + ld(12, sec2)


def post(path, body, extra=""):
    return ("POST /%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Accept: text/plain\r\n%sContent-Length: %d\r\n\r\n" % (path, HOST, extra, len(body))).encode() + body


def cookie():
    return "Cookie: session=%d\r\n" % random.getrandbits(32)


def worker(kind):
    while time.monotonic() < END:
        s = connect(kind)
        if s is None:
            continue
        try:
            if kind == "slowloris":
                s.sendall(b"POST /prov-session HTTP/1.1\r\nHost: %s\r\n" % HOST.encode())
                while time.monotonic() < END:
                    if hold(s, 2.0):
                        break
                    s.sendall(b"X-Slow-%d: %d\r\n" % (random.getrandbits(16), random.getrandbits(16)))
            elif kind == "silent":
                hold(s, SECONDS)
            elif kind == "idle":
                s.sendall(b"GET /idle HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode())
                request_sent(kind)
                read_answer(s)
                hold(s, SECONDS)
            elif kind == "garbage":
                s.sendall(os.urandom(random.randint(1, 600)).replace(b"\n", b"x") + b"\r\n\r\n")
                request_sent(kind)
                read_answer(s)
            elif kind == "huge":
                s.sendall(b"POST /prov-config HTTP/1.1\r\nHost: %s\r\nContent-Length: 99999999999\r\n\r\n"
                          % HOST.encode() + os.urandom(64))
                request_sent(kind)
                read_answer(s)
            elif kind == "cookie":
                s.sendall(post("prov-session", os.urandom(random.randint(1, 200)), cookie()))
                request_sent(kind)
                read_answer(s)
            elif kind == "session":
                s.sendall(post("prov-session", bogus_session()))
                request_sent(kind)
                read_answer(s)
            elif kind == "protover":
                s.sendall(post("proto-ver", b"---", cookie()))
                request_sent(kind)
                read_answer(s)
            elif kind == "config":
                s.sendall(post("prov-config", os.urandom(random.randint(16, 120)), cookie()))
                request_sent(kind)
                read_answer(s)
        except ConnectionResetError:
            bump("reset")
        except OSError:
            pass
        finally:
            try:
                s.close()
            except OSError:
                pass
            closed()


KINDS = ["slowloris", "silent", "idle", "garbage", "huge", "cookie", "session", "protover", "config"]


def main():
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in KINDS for _ in range(PER_KIND)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.1, END - time.monotonic() + 8))
    STATS["seconds"] = round(time.monotonic() - t0, 1)
    STATS["workers"] = len(threads)
    STATS.pop("open_now", None)
    print(json.dumps(STATS, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
