#!/usr/bin/env python3
"""Start an ESP-IDF protocomm security-2 handshake and abandon it (stdlib only; runs in the guest).

usage: sec2_step0.py HOST PORT USERNAME MODE

On one keep-alive HTTP connection (as esp_prov's http.client): POST /proto-ver, then POST
/prov-session with SessionData { sec_ver: 2, sec2: { msg: S2Session_Command0, sc0: { client_username,
client_pubkey A } } } — a hand-written protobuf; A is 384 random bytes below the 3072-bit group's
modulus — and reads the device's S2SessionResp0 (it carries B and the salt: step 0 done). Prints
one JSON line: the statuses, the cookie, the length of the answer and whether it looks like a
SessionResp0 (SessionData field 12 holding Sec2Payload msg 1).

MODE "exit": close and exit at once (the kernel sends FIN). MODE "hold": keep the connection open
and wait (for the scenario to take the station off the air and kill this process: no FIN reaches
the device).
"""
import http.client
import json
import os
import sys
import time


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


def session_cmd0(username):
    cmd0 = ld(1, username) + ld(2, b"\x7f" + os.urandom(383))
    sec2 = b"\x08\x00" + ld(20, cmd0)      # msg = S2Session_Command0 (0), sc0 = field 20
    return b"\x10\x02" + ld(12, sec2)       # sec_ver = SecScheme2, sec2 = field 12


def main():
    host, port, user, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), sys.argv[4]
    headers = {"Content-type": "application/x-www-form-urlencoded", "Accept": "text/plain"}
    c = http.client.HTTPConnection(host, port, timeout=30)
    out = {}
    c.request("POST", "/proto-ver", b"---", headers)
    r = c.getresponse()
    out["proto_ver_status"] = r.status
    out["proto_ver"] = r.read().decode(errors="replace")
    cookie = r.getheader("Set-Cookie")
    if cookie:
        headers["Cookie"] = cookie.split(";")[0]
    c.request("POST", "/prov-session", session_cmd0(user), headers)
    r = c.getresponse()
    body = r.read()
    out["session_status"] = r.status
    out["cookie"] = headers.get("Cookie")
    out["resp0_len"] = len(body)
    # SessionData: 0x10 0x02 (sec_ver 2), then field 12 (0x62) with a Sec2Payload whose msg (0x08) is 1.
    i = body.find(b"\x62")
    out["looks_like_resp0"] = body[:2] == b"\x10\x02" and i >= 0 and b"\x08\x01" in body[i:i + 6]
    print(json.dumps(out), flush=True)
    if mode == "hold":
        while True:
            time.sleep(1)
    c.close()


if __name__ == "__main__":
    main()
