#!/usr/bin/env python3
"""Derives crates/blufi/tests/data/blufi-derived.json from the rules of
shared/specs/esp-prov.md §7, independently of the Rust code.

Run: python3 crates/blufi/tests/data/derive_vectors.py > crates/blufi/tests/data/blufi-derived.json

Uses only the standard library (hashlib, binascii) and `cryptography` (AES-CFB128, AES-CTR).
The values the spec itself lists are asserted here, so a wrong rule fails loudly.
"""
import binascii
import hashlib
import json
import random
import subprocess
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

try:  # CFB moved to the "decrepit" module in cryptography 47
    from cryptography.hazmat.decrepit.ciphers.modes import CFB
except ImportError:
    CFB = modes.CFB

TOOL = "crates/blufi/tests/data/derive_vectors.py (Python {}, cryptography {})".format(
    sys.version.split()[0], __import__("cryptography").__version__
)

FFDHE3072_HEX = (
    "FFFFFFFFFFFFFFFFADF85458A2BB4A9AAFDC5620273D3CF1D8B9C583CE2D3695A9E13641146433FBCC939DCE249B3EF9"
    "7D2FE363630C75D8F681B202AEC4617AD3DF1ED5D5FD65612433F51F5F066ED0856365553DED1AF3B557135E7F57C935"
    "984F0C70E0E68B77E2A689DAF3EFE8721DF158A136ADE73530ACCA4F483A797ABC0AB182B324FB61D108A94BB2C8E3FB"
    "B96ADAB760D7F4681D4F42A3DE394DF4AE56EDE76372BB190B07A7C8EE0A6D709E02FCE1CDF7E2ECC03404CD28342F61"
    "9172FE9CE98583FF8E4F1232EEF28183C3FE3B1B4C6FAD733BB5FCBC2EC22005C58EF1837D1683B2C6F34A26C1B2EFFA"
    "886B4238611FCFDCDE355B3B6519035BBC34F4DEF99C023861B46FC9D6E6C9077AD91D2691F7F7EE598CB0FAC186D91C"
    "AEFE130985139270B4130C93BC437944F4FD4452E2D74DD364F2E21E71F54BFF5CAE82AB9C9DF69EE86D2BC522363A0D"
    "ABC521979B0DEADA1DBF9A42D5C4484E0ABCD06BFA53DDEF3C1B20EE3FD59D7C25E41D2B66C62E37FFFFFFFFFFFFFFFF"
)
V1_PRIME_HEX = (
    "cf5cf5c38419a724957ff5dd323b9c45c3cdd261eb740f69aa94b8bb1a5c96409153bd76b24222d03274e4725a540609"
    "2e9e82e9135c643cae98132b0d95f7d65347c68afc1e677da90e51bbab5f5cf429c291b4ba39c6b2dc5e8c7231e46aa7"
    "728e87664532cdf547be20c9a3fa8342be6e34371a27c06f7dc0edddd2f86373"
)


def crc16_genibus(data):
    # binascii.crc_hqx is CRC-16/XMODEM-style (poly 0x1021, no reflection, no xorout) with a
    # caller-chosen init: init 0xFFFF then xorout 0xFFFF gives CRC-16/GENIBUS.
    return binascii.crc_hqx(bytes(data), 0xFFFF) ^ 0xFFFF


def frame(ftype, subtype, fc, seq, data, plaintext=None):
    """A frame; the checksum covers the plaintext (defaults to data)."""
    plain = data if plaintext is None else plaintext
    out = bytes([ftype | subtype << 2, fc, seq, len(data)]) + bytes(data)
    if fc & 0x02:
        out += crc16_genibus(bytes([seq, len(plain)]) + bytes(plain)).to_bytes(2, "little")
    return out


def v1_encrypt(key, seq, data):
    iv = bytes([seq]) + bytes(15)
    enc = Cipher(algorithms.AES(key), CFB(iv)).encryptor()
    return enc.update(data) + enc.finalize()


class CtrStream:
    def __init__(self, key, iv):
        self.enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()

    def apply(self, data):
        return self.enc.update(data)


def pieces_device(total, mtu):
    """Spec §7.4 device rule: frag_size = min(MTU, 255) - 11 content bytes per fragment."""
    frag = min(mtu, 255) - 11
    offset, out = 0, []
    while total - offset > frag:
        out.append((offset, frag, True))
        offset += frag
    out.append((offset, total - offset, False))
    return out


def pieces_phone(total, mtu, checksum):
    """Spec §7.4 Android rule: frames of at most min(MTU - 4, 255) bytes, no final piece <= 2."""
    packet = min(mtu - 4, 255)
    content = packet - 4 - 2 - (2 if checksum else 0)
    offset, out = 0, []
    while total - offset > content + 2:
        out.append((offset, content, True))
        offset += content
    out.append((offset, total - offset, False))
    return out


def send(ftype, subtype, payload, seq, pieces, base_fc, encrypt):
    """Frames of one message; `encrypt(seq, data) -> ciphertext` or None."""
    frames = []
    for offset, length, fragment in pieces:
        data = b""
        if fragment:
            data += (len(payload) - offset).to_bytes(2, "little")
        data += payload[offset : offset + length]
        fc = base_fc | (0x10 if fragment else 0)
        cipher = encrypt(seq, data) if encrypt else data
        frames.append(frame(ftype, subtype, fc, seq, cipher, plaintext=data))
        seq = (seq + 1) % 256
    return frames, seq


def det_bytes(label, n):
    out = b""
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(label.encode() + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:n]


def private_exponent(generation, random_bytes, p):
    """This crate's draw: V1 r mod (P - 3) + 2 from 128 bytes; V2 40 bytes with the top bit set."""
    if generation == "v1":
        return int.from_bytes(random_bytes, "big") % (p - 3) + 2
    return int.from_bytes(bytes([random_bytes[0] | 0x80]) + random_bytes[1:], "big")


def conversation(generation, status_payload):
    """The Android flow of spec §7.5 end to end: frames both ways, from fixed randomness."""
    v1 = generation == "v1"
    p = int(V1_PRIME_HEX if v1 else FFDHE3072_HEX, 16)
    plen = 128 if v1 else 384
    rand_len = 128 if v1 else 40
    phone_random = det_bytes("blufi phone " + generation, rand_len)
    device_random = det_bytes("blufi device " + generation, rand_len)
    x = private_exponent(generation, phone_random, p)
    y = private_exponent(generation, device_random, p)
    phone_pub = pow(2, x, p).to_bytes(plen, "big")
    device_pub = pow(2, y, p).to_bytes(plen, "big")
    shared = pow(int.from_bytes(device_pub, "big"), x, p)
    assert shared == pow(int.from_bytes(phone_pub, "big"), y, p)
    if v1:
        secret = shared.to_bytes((shared.bit_length() + 7) // 8, "big")  # minimal
        key = hashlib.md5(secret).digest()
        up_encrypt = lambda seq, data: v1_encrypt(key, seq, data)
        down_encrypt = up_encrypt
    else:
        secret = shared.to_bytes(384, "big")  # padded
        key = hashlib.sha256(secret).digest()
        up_stream = CtrStream(key, hashlib.sha256(b"blufi_dec" + secret).digest()[:16])
        down_stream = CtrStream(key, hashlib.sha256(b"blufi_enc" + secret).digest()[:16])
        up_encrypt = lambda seq, data: up_stream.apply(data)
        down_encrypt = lambda seq, data: down_stream.apply(data)

    blob = plen.to_bytes(2, "big") + p.to_bytes(plen, "big") + (1).to_bytes(2, "big") + b"\x02"
    blob += plen.to_bytes(2, "big") + phone_pub
    params = b"\x01" + blob
    length = b"\x00" + len(blob).to_bytes(2, "big")

    up, down = [], []
    up_seq = down_seq = 0

    def phone(ftype, subtype, payload, fc, encrypt=None):
        nonlocal up_seq
        frames, up_seq = send(ftype, subtype, payload, up_seq,
                              pieces_phone(len(payload), 24, bool(fc & 0x02)), fc, encrypt)
        up.extend(frames)

    def device(ftype, subtype, payload, fc, encrypt=None):
        nonlocal down_seq
        frames, down_seq = send(ftype, subtype, payload, down_seq,
                                pieces_device(len(payload), 23), 0x04 | fc, encrypt)
        down.extend(frames)

    phone(0, 0x07, b"", 0)                       # GET_VERSION
    device(1, 0x10, b"\x01\x03" if v1 else b"\x01\x04", 0)   # REPLY_VERSION
    phone(1, 0x00, length, 0)                    # NEG: parameter length
    phone(1, 0x00, params, 0)                    # NEG: parameters (fragmented)
    device(1, 0x00, device_pub, 0)               # NEG: device public key (fragmented)
    phone(0, 0x01, b"\x03", 0x02)                # SET_SEC_MODE 0x03, checksum only
    opmode_seq = up_seq
    phone(0, 0x02, b"\x01", 0x08)                # SET_WIFI_OPMODE STA, ACK requested
    device(0, 0x00, bytes([opmode_seq]), 0)      # ACK
    phone(1, 0x02, b"HomeNet", 0x03, up_encrypt)       # STA_SSID
    phone(1, 0x03, b"secret123", 0x03, up_encrypt)     # STA_PASSWD
    phone(0, 0x03, b"", 0)                       # CONNECT_TO_AP
    device(1, 0x0F, status_payload, 0x03, down_encrypt)  # WIFI_REP
    return {
        "name": generation + "-conversation-replayed-randomness",
        "source": "derived from spec §7.3-§7.6 (Android flow of §7.5; phone frames per the Android sizing rule at 20-byte packets, device frames per frag_size at MTU 23; "
                  + ("V1: P = the apps' prime, G = 2, minimal secret, MD5, AES-128-CFB" if v1 else "V2: ffdhe3072, G = 2, secret padded to 384 B, SHA-256, AES-256-CTR streams")
                  + "; private exponents drawn as this crate does from the given random bytes) by " + TOOL,
        "kind": "conversation",
        "generation": generation,
        "phone_random_hex": phone_random.hex(),
        "device_random_hex": device_random.hex(),
        "phone_public_hex": phone_pub.hex(),
        "device_public_hex": device_pub.hex(),
        "secret_hex": secret.hex(),
        "key_hex": key.hex(),
        "status_hex": status_payload.hex(),
        "up_hex": [f.hex() for f in up],
        "down_hex": [f.hex() for f in down],
    }


def hexs(b):
    return bytes(b).hex()


def main():
    vectors = []
    spec76 = "shared/specs/esp-prov.md §7.6 (vectors computed by the spec authors with Python cryptography [VER]); re-derived by " + TOOL

    # --- CRC -----------------------------------------------------------------------------
    assert crc16_genibus(b"123456789") == 0xD64E
    vectors.append({
        "name": "crc16-genibus-check",
        "source": "shared/specs/esp-prov.md §7.3 check value; re-derived with binascii.crc_hqx(data, 0xFFFF) ^ 0xFFFF by " + TOOL,
        "kind": "crc",
        "input_hex": hexs(b"123456789"),
        "crc": 0xD64E,
    })
    data = bytes(range(256))
    vectors.append({
        "name": "crc16-genibus-0-255",
        "source": "derived from spec §7.3 (CRC-16/GENIBUS parameters) by " + TOOL,
        "kind": "crc",
        "input_hex": hexs(data),
        "crc": crc16_genibus(data),
    })

    # --- Plain frames ----------------------------------------------------------------------
    sec_mode = frame(0, 0x01, 0x02, 3, b"\x03")
    assert sec_mode.hex() == "04020301036169"
    vectors.append({
        "name": "set-sec-mode-seq3-checksum",
        "source": "shared/specs/esp-prov.md §7.3 example [VER]; re-derived by " + TOOL,
        "kind": "frame",
        "frame_hex": sec_mode.hex(),
        "frame_type": 0, "subtype": 1, "fc": 0x02, "seq": 3, "data_hex": "03",
    })
    for own_seq in (0, 7):
        ack = frame(0, 0x00, 0x04, own_seq, b"\x00")
        vectors.append({
            "name": "device-ack-of-seq0-own-seq{}".format(own_seq),
            "source": "derived from spec §7.3 (ACK = control subtype 0, 1 data byte = acked seq; fc 0x04 = device to phone) by " + TOOL,
            "kind": "frame",
            "frame_hex": ack.hex(),
            "frame_type": 0, "subtype": 0, "fc": 0x04, "seq": own_seq, "data_hex": "00",
        })
    opmode = frame(0, 0x02, 0x08, 4, b"\x01")
    vectors.append({
        "name": "phone-set-wifi-opmode-sta-ack-requested",
        "source": "derived from spec §7.5 (SET_WIFI_OPMODE 0x02, STA = 1, ACK requested) by " + TOOL,
        "kind": "frame",
        "frame_hex": opmode.hex(),
        "frame_type": 0, "subtype": 2, "fc": 0x08, "seq": 4, "data_hex": "01",
    })
    version = frame(1, 0x10, 0x04, 0, b"\x01\x04")
    vectors.append({
        "name": "device-reply-version-1.4",
        "source": "derived from spec §7.5 (REPLY_VERSION 0x10, 2 bytes major, minor) by " + TOOL,
        "kind": "frame",
        "frame_hex": version.hex(),
        "frame_type": 1, "subtype": 0x10, "fc": 0x04, "seq": 0, "data_hex": "0104",
    })

    # --- Payloads --------------------------------------------------------------------------
    status = bytes([1, 0, 0])  # STA, connected with IP, 0 SoftAP stations
    status += bytes([0x01, 6]) + bytes.fromhex("a0b1c2d3e4f5")
    status += bytes([0x02, 7]) + b"HomeNet"
    status += bytes([0x15, 1, 255]) + bytes([0x16, 1, (-58) & 0xFF])
    vectors.append({
        "name": "wifi-rep-sta-connected",
        "source": "derived from spec §7.5 (status report: opmode | sta_state | softap_conn_count | TLVs) by " + TOOL,
        "kind": "status",
        "data_hex": status.hex(),
        "operation_mode": 1, "station_state": 0, "softap_connections": 0,
        "bssid_hex": "a0b1c2d3e4f5", "ssid": "HomeNet", "end_reason": 255, "rssi": -58,
    })
    networks = [("HomeNet", -40), ("Cafe 5G", -71), ("", -128)]
    wifi_list = b"".join(bytes([len(s) + 1, r & 0xFF]) + s.encode() for s, r in networks)
    vectors.append({
        "name": "wifi-list-three-networks",
        "source": "derived from spec §7.5 (WIFI_LIST: len = ssid_len + 1 | rssi | ssid) by " + TOOL,
        "kind": "wifi_list",
        "data_hex": wifi_list.hex(),
        "networks": [{"ssid": s, "rssi": r} for s, r in networks],
    })

    # --- Fragmentation, plaintext ------------------------------------------------------------
    payload = bytes(range(30))
    frames, _ = send(1, 0x13, payload, 0, pieces_device(len(payload), 23), 0x04, None)
    vectors.append({
        "name": "device-custom-data-30-bytes-mtu23",
        "source": "derived from spec §7.4 (device frag_size = min(MTU,255) - 11; remaining total LE) by " + TOOL,
        "kind": "link",
        "sender": "device", "sizing": {"rule": "device", "mtu": 23}, "generation": None, "mode": 0,
        "messages": [{"frame_type": 1, "subtype": 0x13, "data_hex": payload.hex()}],
        "frames_hex": [f.hex() for f in frames],
    })
    payload = bytes(range(17))
    frames, _ = send(1, 0x13, payload, 0, pieces_phone(len(payload), 24, False), 0x00, None)
    vectors.append({
        "name": "phone-custom-data-17-bytes-default-packet",
        "source": "derived from spec §7.4 (Android packet = 20 bytes by default; no final piece <= 2 bytes) by " + TOOL,
        "kind": "link",
        "sender": "phone", "sizing": {"rule": "phone_default"}, "generation": None, "mode": 0,
        "messages": [{"frame_type": 1, "subtype": 0x13, "data_hex": payload.hex()}],
        "frames_hex": [f.hex() for f in frames],
    })
    payload = bytes(range(16))
    frames, _ = send(1, 0x13, payload, 0, pieces_phone(len(payload), 24, False), 0x00, None)
    assert len(frames) == 1
    vectors.append({
        "name": "phone-custom-data-16-bytes-tail-merged",
        "source": "derived from spec §7.4 (Android: a 2-byte tail is merged, one 20-byte frame) by " + TOOL,
        "kind": "link",
        "sender": "phone", "sizing": {"rule": "phone_default"}, "generation": None, "mode": 0,
        "messages": [{"frame_type": 1, "subtype": 0x13, "data_hex": payload.hex()}],
        "frames_hex": [f.hex() for f in frames],
    })

    # --- V1 crypto -------------------------------------------------------------------------
    v1_secret = bytes(range(1, 0x81))
    v1_key = hashlib.md5(v1_secret).digest()
    assert v1_key.hex() == "a71afaca791df5aaadb02473dcff25dd"
    vectors.append({
        "name": "v1-key-secret-01-to-80",
        "source": spec76,
        "kind": "v1_key",
        "secret_hex": v1_secret.hex(),
        "key_hex": v1_key.hex(),
    })
    ssid = frame(1, 0x02, 0x03, 1, v1_encrypt(v1_key, 1, b"HomeNet"), plaintext=b"HomeNet")
    assert ssid.hex() == "0903010745389a1cef9bf7bd0e"
    get_version = frame(0, 0x07, 0x00, 0, b"")
    vectors.append({
        "name": "v1-phone-sta-ssid-homenet-seq1",
        "source": spec76 + "; frame 0 (GET_VERSION, plaintext under mode 0x03) added to reach seq 1",
        "kind": "link",
        "sender": "phone", "sizing": {"rule": "phone_default"}, "generation": "v1", "mode": 3,
        "secret_hex": v1_secret.hex(),
        "messages": [
            {"frame_type": 0, "subtype": 0x07, "data_hex": ""},
            {"frame_type": 1, "subtype": 0x02, "data_hex": b"HomeNet".hex()},
        ],
        "frames_hex": [get_version.hex(), ssid.hex()],
    })
    status_payload = status
    frames, _ = send(1, 0x0F, status_payload, 0, pieces_device(len(status_payload), 23), 0x04 | 0x03,
                     lambda seq, data: v1_encrypt(v1_key, seq, data))
    vectors.append({
        "name": "v1-device-wifi-rep-fragmented-mtu23",
        "source": "derived from spec §7.4 + §7.6 (V1: AES-128-CFB128, IV = [seq, 0 x 15] per frame, covering the 2-byte total; CRC over plaintext) by " + TOOL,
        "kind": "link",
        "sender": "device", "sizing": {"rule": "device", "mtu": 23}, "generation": "v1", "mode": 3,
        "secret_hex": v1_secret.hex(),
        "messages": [{"frame_type": 1, "subtype": 0x0F, "data_hex": status_payload.hex()}],
        "frames_hex": [f.hex() for f in frames],
    })

    # --- V2 crypto -------------------------------------------------------------------------
    v2_secret = bytes((7 * i + 3) % 256 for i in range(384))
    v2_key = hashlib.sha256(v2_secret).digest()
    iv_enc = hashlib.sha256(b"blufi_enc" + v2_secret).digest()[:16]
    iv_dec = hashlib.sha256(b"blufi_dec" + v2_secret).digest()[:16]
    assert v2_key.hex() == "3d9c7f577b18b641d4d7f34641109989f8115842cb771ce0716c2de77db159b7"
    assert iv_enc.hex() == "c2d0354f7f5e9d903d7b01b7adbea7f0"
    assert iv_dec.hex() == "4f53f7fe8160e1691132fdd4ed879a87"
    vectors.append({
        "name": "v2-key-and-ivs-secret-7i-plus-3",
        "source": spec76,
        "kind": "v2_key",
        "secret_hex": v2_secret.hex(),
        "key_hex": v2_key.hex(),
        "iv_enc_hex": iv_enc.hex(),
        "iv_dec_hex": iv_dec.hex(),
    })
    phone_stream = CtrStream(v2_key, iv_dec)
    ssid = frame(1, 0x02, 0x03, 1, phone_stream.apply(b"HomeNet"), plaintext=b"HomeNet")
    assert ssid.hex() == "09030107b5baa9461e52e5bd0e"
    assert crc16_genibus(bytes([1, 7]) + b"HomeNet") == 0x0EBD
    password = b"secret123"
    pw = frame(1, 0x03, 0x03, 2, phone_stream.apply(password), plaintext=password)
    connect = frame(0, 0x03, 0x00, 3, b"")
    vectors.append({
        "name": "v2-phone-sta-ssid-passwd-connect",
        "source": spec76 + " (STA_SSID frame); STA_PASSWD continues the phone → device CTR stream and CONNECT_TO_AP is plaintext (spec §7.5), derived by " + TOOL,
        "kind": "link",
        "sender": "phone", "sizing": {"rule": "phone_default"}, "generation": "v2", "mode": 3,
        "secret_hex": v2_secret.hex(),
        "messages": [
            {"frame_type": 0, "subtype": 0x07, "data_hex": ""},
            {"frame_type": 1, "subtype": 0x02, "data_hex": b"HomeNet".hex()},
            {"frame_type": 1, "subtype": 0x03, "data_hex": password.hex()},
            {"frame_type": 0, "subtype": 0x03, "data_hex": ""},
        ],
        "frames_hex": [get_version.hex(), ssid.hex(), pw.hex(), connect.hex()],
    })
    device_stream = CtrStream(v2_key, iv_enc)
    frames, _ = send(1, 0x0F, status_payload, 0, pieces_device(len(status_payload), 23), 0x04 | 0x03,
                     lambda seq, data: device_stream.apply(data))
    networks_payload = wifi_list
    more, _ = send(1, 0x11, networks_payload, len(frames), pieces_device(len(networks_payload), 23), 0x04 | 0x03,
                   lambda seq, data: device_stream.apply(data))
    vectors.append({
        "name": "v2-device-wifi-rep-and-list-fragmented-mtu23",
        "source": "derived from spec §7.4 + §7.6 (V2: one AES-256-CTR stream device → phone with IV(blufi_enc), spanning frames and messages; CRC over plaintext) by " + TOOL,
        "kind": "link",
        "sender": "device", "sizing": {"rule": "device", "mtu": 23}, "generation": "v2", "mode": 3,
        "secret_hex": v2_secret.hex(),
        "messages": [
            {"frame_type": 1, "subtype": 0x0F, "data_hex": status_payload.hex()},
            {"frame_type": 1, "subtype": 0x11, "data_hex": networks_payload.hex()},
        ],
        "frames_hex": [f.hex() for f in frames + more],
    })

    # --- Whole conversations with replayed randomness ------------------------------------------
    for generation in ("v1", "v2"):
        vectors.append(conversation(generation, status))

    # --- Group constants -------------------------------------------------------------------
    p = int(FFDHE3072_HEX, 16)

    def e_floor(shift):
        extra, acc, term, k = 64, 0, (1 << shift) << 64, 0
        while term:
            acc += term
            k += 1
            term //= k
        return acc >> extra

    formula = 2**3072 - 2**3008 + (e_floor(2942) + 2625351) * 2**64 - 1
    assert formula == p, "RFC 7919 formula"

    def probable_prime(n, rounds=16):
        d, s = n - 1, 0
        while d % 2 == 0:
            d, s = d // 2, s + 1
        rng = random.Random(7919)
        for _ in range(rounds):
            x = pow(rng.randrange(2, n - 2), d, n)
            if x in (1, n - 1):
                continue
            for _ in range(s - 1):
                x = x * x % n
                if x == n - 1:
                    break
            else:
                return False
        return True

    assert probable_prime(p) and probable_prime((p - 1) // 2)
    openssl = "not checked"
    try:
        pem = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe3072"],
                             capture_output=True, check=True).stdout
        asn1 = subprocess.run(["openssl", "asn1parse"], input=pem, capture_output=True, check=True).stdout.decode()
        assert FFDHE3072_HEX in asn1
        openssl = subprocess.run(["openssl", "version"], capture_output=True, check=True).stdout.decode().strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    vectors.append({
        "name": "ffdhe3072-prime",
        "source": "RFC 7919 appendix A.2: equal to 2^3072 - 2^3008 + (floor(2^2942 e) + 2625351) 2^64 - 1, to OpenSSL's built-in group:ffdhe3072 ({}), p and (p-1)/2 pass 16 Miller-Rabin rounds; by {}".format(openssl, TOOL),
        "kind": "prime",
        "prime": "ffdhe3072",
        "bits": p.bit_length(),
        "sha256": hashlib.sha256(p.to_bytes(384, "big")).hexdigest(),
    })
    q = int(V1_PRIME_HEX, 16)
    assert probable_prime(q)
    vectors.append({
        "name": "v1-app-prime",
        "source": "shared/specs/esp-prov.md §7.6 table (the apps' 1024-bit P); passes 16 Miller-Rabin rounds (not a safe prime); by " + TOOL,
        "kind": "prime",
        "prime": "v1",
        "bits": q.bit_length(),
        "sha256": hashlib.sha256(q.to_bytes(128, "big")).hexdigest(),
    })

    json.dump(vectors, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
