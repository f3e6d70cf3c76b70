#!/usr/bin/env python3
"""Secrets hygiene of a scenario's results: no file that wifiprov wrote (its outputs, logs,
JSON events, hook logs, reports) holds one of the given secrets, as text, lower/upper-case hex
or base64. Skipped: the third-party daemons' own logs and configs and the captures (hostapd and
wpa_supplicant are given the passphrase by design; a capture holds the air), the lab's report
files, and the device's QR payload (it exists to hand the PoP / password to the phone).

Usage: secrets.py DIR SECRET...   exit 0 if clean, 1 (naming file, line and form) if not.
"""
import base64
import json
import os
import sys

SKIP_PREFIXES = ("hostapd", "wpa_supplicant", "dnsmasq", "tcpdump", "btmon", "bluetoothd",
                 "networkmanager", "nm-", "dbus", "console", "report", "summary")
SKIP_SUFFIXES = (".pcap", ".pcapng", ".conf")


def forms(secret: str):
    raw = secret.encode()
    b64 = base64.b64encode(raw).decode().rstrip("=")
    yield "text", raw
    yield "hex", raw.hex().encode()
    yield "HEX", raw.hex().upper().encode()
    # A prefix of the base64 (its last character depends on what follows).
    if len(b64) > 4:
        yield "base64", b64[:-1].encode()


def without_qr(data: bytes) -> bytes:
    out = []
    drawing = False
    for line in data.split(b"\n"):
        if line.startswith(b"QR payload:") or b"QR payload: " in line:
            drawing = True
            continue
        if drawing and (not line.strip() or any(c in line.decode("utf-8", "replace") for c in "█▀▄")):
            continue
        drawing = False
        try:
            value = json.loads(line)
        except (ValueError, UnicodeDecodeError):
            out.append(line)
            continue
        if isinstance(value, dict):
            value.pop("qr", None)
            line = json.dumps(value, ensure_ascii=False).encode()
        out.append(line)
    return b"\n".join(out)


def main() -> int:
    root, secrets = sys.argv[1], [s for s in sys.argv[2:] if s]
    found = 0
    scanned = 0
    for folder, _, files in os.walk(root):
        for name in sorted(files):
            low = name.lower()
            if low.startswith(SKIP_PREFIXES) or low.endswith(SKIP_SUFFIXES):
                continue
            path = os.path.join(folder, name)
            try:
                data = without_qr(open(path, "rb").read())
            except OSError:
                continue
            scanned += 1
            for secret in secrets:
                for form, needle in forms(secret):
                    at = data.find(needle)
                    if at >= 0:
                        line = data.count(b"\n", 0, at) + 1
                        print(f"secret ({form}) in {os.path.relpath(path, root)} line {line}")
                        found += 1
    print(f"{scanned} file(s) scanned for {len(secrets)} secret(s): {found} finding(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
