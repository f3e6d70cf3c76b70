#!/usr/bin/env python3
"""Summarise a radiotap pcap from a lab monitor interface (stdlib only; runs in the guest or on the host).

usage: frames.py PCAP [STA_MAC] [LEN,LEN,...]

Prints one JSON object: frame counts by type, and, when STA_MAC is given, the station's data frames
(to_ds: sent by the station, addr2 == STA; from_ds: relayed by the AP, addr3 == STA) whose UDP payload
length, recovered from the 802.11 frame length, is one of LEN. For a protected (CCMP) frame the 802.11
body is payload + 52 (8 CCMP header + 8 LLC/SNAP + 20 IPv4 + 8 UDP + 8 MIC), so with the 24-byte header
the frame is payload + 76 (+2 for QoS data); unprotected: payload + 36 body.
"""
import json
import struct
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit("not a pcap file: %s" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 127:  # radiotap
            if len(pkt) < 8:
                continue
            rt_len = struct.unpack("<H", pkt[2:4])[0]
            present = struct.unpack("<I", pkt[4:8])[0]
            pos = 8
            p = present
            while p & 0x80000000 and pos + 4 <= rt_len:  # extended present bitmaps
                p = struct.unpack("<I", pkt[pos:pos + 4])[0]
                pos += 4
            flags = 0
            if present & 1:  # TSFT, 8-byte aligned
                pos = (pos + 7) & ~7
                pos += 8
            if present & 2 and pos < rt_len:
                flags = pkt[pos]
            body = pkt[rt_len:]
            if flags & 0x10:  # FCS at end
                body = body[:-4]
            yield body
        elif linktype == 105:  # bare 802.11
            yield pkt


def mac(b):
    return ":".join("%02x" % x for x in b)


def main():
    path = sys.argv[1]
    sta = sys.argv[2].lower() if len(sys.argv) > 2 and sys.argv[2] else None
    lens = set(int(x) for x in sys.argv[3].split(",") if x) if len(sys.argv) > 3 and sys.argv[3] else set()
    out = {"frames": 0, "beacons": 0, "mgmt": 0, "ctrl": 0, "data": 0, "protected_data": 0}
    to_ds, from_ds = {}, {}
    sta_data = 0
    for fr in frames(path):
        out["frames"] += 1
        if len(fr) < 10:
            continue
        fc = struct.unpack("<H", fr[:2])[0]
        ftype, sub = (fc >> 2) & 3, (fc >> 4) & 0xF
        if ftype == 0:
            out["mgmt"] += 1
            if sub == 8:
                out["beacons"] += 1
            continue
        if ftype == 1:
            out["ctrl"] += 1
            continue
        if ftype != 2 or len(fr) < 24:
            continue
        out["data"] += 1
        tods, fromds, prot = bool(fc & 0x100), bool(fc & 0x200), bool(fc & 0x4000)
        if prot:
            out["protected_data"] += 1
        hdr = 24 + (2 if sub & 8 else 0) + (6 if tods and fromds else 0)
        body = len(fr) - hdr
        payload = body - (52 if prot else 36)
        a2, a3 = mac(fr[10:16]), mac(fr[16:22])
        if sta is None:
            continue
        if tods and not fromds and a2 == sta:
            sta_data += 1
            if payload in lens:
                to_ds[payload] = to_ds.get(payload, 0) + 1
        elif fromds and not tods and a3 == sta and payload in lens:
            from_ds[payload] = from_ds.get(payload, 0) + 1
    if sta is not None:
        out["sta"] = sta
        out["sta_data_frames"] = sta_data
        if lens:
            out["expected_lengths"] = len(lens)
            out["to_ds_matched"] = len(to_ds)
            out["from_ds_matched"] = len(from_ds)
            out["to_ds_frames"] = sum(to_ds.values())
            out["from_ds_frames"] = sum(from_ds.values())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
