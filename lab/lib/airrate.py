#!/usr/bin/env python3
"""Frame rates on the air from a lab monitor capture (stdlib only; guest or host).

usage: airrate.py PCAP MAC[,MAC...] [FROM_MS TO_MS]

Counts, in the radiotap capture PCAP (snap length may be short: only headers are read), the data
frames each MAC sent (to-DS, addr2 == MAC) and those the AP relayed for it (from-DS, addr3 == MAC),
plus every data frame on the channel, inside the window [FROM_MS, TO_MS] (wall-clock ms, the
clock of the events' unix_ms; default: the whole capture). Prints one JSON object: per MAC
{to_ds, from_ds}, the sums, the window length and the rates (frames per second): "tx_fps" = the
listed stations' own transmissions, "air_fps" = those plus the AP's relays of them, "data_fps" =
every data frame on the channel.
"""
import json
import struct
import sys


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        end, div = "<", 1e6
    elif magic == b"\x4d\x3c\xb2\xa1":
        end, div = "<", 1e9
    elif magic == b"\xa1\xb2\xc3\xd4":
        end, div = ">", 1e6
    elif magic == b"\xa1\xb2\x3c\x4d":
        end, div = ">", 1e9
    else:
        raise SystemExit("not a pcap file: %s" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        ts_ms = (sec + frac / div) * 1000.0
        if linktype == 127:
            if len(pkt) < 4:
                continue
            rt_len = struct.unpack("<H", pkt[2:4])[0]
            yield ts_ms, pkt[rt_len:]
        elif linktype == 105:
            yield ts_ms, pkt


def mac(b):
    return ":".join("%02x" % x for x in b)


def main():
    path = sys.argv[1]
    macs = [m.strip().lower() for m in sys.argv[2].split(",") if m.strip()]
    t0 = float(sys.argv[3]) if len(sys.argv) > 4 else None
    t1 = float(sys.argv[4]) if len(sys.argv) > 4 else None
    per = {m: {"to_ds": 0, "from_ds": 0} for m in macs}
    data_frames = 0
    first = last = None
    for ts, fr in records(path):
        if t0 is not None and not (t0 <= ts <= t1):
            continue
        if len(fr) < 24:
            continue
        fc = struct.unpack("<H", fr[:2])[0]
        if (fc >> 2) & 3 != 2:
            continue
        first = ts if first is None else first
        last = ts
        data_frames += 1
        flags = fc >> 8
        to_ds, from_ds = flags & 1, (flags >> 1) & 1
        a2, a3 = mac(fr[10:16]), mac(fr[16:22])
        if to_ds and not from_ds and a2 in per:
            per[a2]["to_ds"] += 1
        elif from_ds and not to_ds and a3 in per:
            per[a3]["from_ds"] += 1
    if t0 is not None:
        span = (t1 - t0) / 1000.0
    else:
        span = ((last - first) / 1000.0) if first is not None else 0.0
    tx = sum(v["to_ds"] for v in per.values())
    relayed = sum(v["from_ds"] for v in per.values())
    rate = (lambda n: round(n / span, 1) if span > 0 else 0.0)
    print(json.dumps({"stations": per, "tx": tx, "relayed": relayed, "data_frames": data_frames,
                      "window_s": round(span, 2), "tx_fps": rate(tx), "air_fps": rate(tx + relayed),
                      "data_fps": rate(data_frames)}))


if __name__ == "__main__":
    main()
