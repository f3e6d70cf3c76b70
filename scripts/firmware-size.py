#!/usr/bin/env python3
"""Size report of the ESP32-C3 firmware ELF (firmware/README.md).

    scripts/firmware-size.py ELF [--markdown OUT.md] [--tsv OUT.tsv]

Reads the ELF32 itself (section headers and symbol table; no pyelftools):
  * text / data / bss: allocated sections with contents that are read-only or executable (flash),
    writable ones with contents (initialised RAM), writable ones without (zeroed RAM); read-only
    sections without contents (address padding, the stack region) are listed apart, unlike in
    `llvm-size -B`, whose output is appended;
  * each wifiprov crate's share: the sizes of the function and object symbols the compiler named
    after it (code inlined into a caller counts for the caller, so these are lower bounds);
  * the state sizes the firmware keeps in its WIFIPROV_STATE_SIZES table (size_of on the target).
Exits non-zero if the ELF is not a 32-bit little-endian RISC-V ELF or the table is missing.
"""

import argparse
import re
import struct
import subprocess
import sys

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR = 0x1, 0x2, 0x4
SHT_NOBITS, SHT_SYMTAB = 8, 2
STT_OBJECT, STT_FUNC = 1, 2
EM_RISCV = 243

STATE_NAMES = ["ESP-TOUCH v1 decoder", "ESP-TOUCH v2 decoder", "AirKiss decoder",
               "front (all three + scan table)", "channel hopper", "one observation"]
CRATES = ["wifiprov_esptouch", "wifiprov_airkiss", "wifiprov_sniff", "wifiprov_front",
          "wifiprov_esp32c3"]
# The wifiprov crates that make up the decoder core (the firmware's glue is listed apart).
CORE = CRATES[:4]


class Elf:
    def __init__(self, data):
        if data[:4] != b"\x7fELF" or data[4] != 1 or data[5] != 1:
            raise ValueError("not a 32-bit little-endian ELF")
        (self.type, self.machine, _, _, _, shoff, _, _, _, _, shentsize, shnum,
         shstrndx) = struct.unpack_from("<HHIIIIIHHHHHH", data, 16)
        if self.machine != EM_RISCV:
            raise ValueError(f"not a RISC-V ELF (machine {self.machine})")
        self.data = data
        self.sections = []
        for i in range(shnum):
            name, stype, flags, addr, offset, size, link, _, _, entsize = struct.unpack_from(
                "<IIIIIIIIII", data, shoff + i * shentsize)
            self.sections.append(dict(name_off=name, type=stype, flags=flags, addr=addr,
                                      offset=offset, size=size, link=link, entsize=entsize))
        names = self.sections[shstrndx]
        for s in self.sections:
            s["name"] = self.cstr(names["offset"] + s["name_off"])

    def cstr(self, at):
        end = self.data.index(b"\0", at)
        return self.data[at:end].decode("utf-8", "replace")

    def symbols(self):
        for s in self.sections:
            if s["type"] != SHT_SYMTAB:
                continue
            strtab = self.sections[s["link"]]
            for i in range(s["size"] // s["entsize"]):
                name, value, size, info, _, shndx = struct.unpack_from(
                    "<IIIBBH", self.data, s["offset"] + i * s["entsize"])
                yield dict(name=self.cstr(strtab["offset"] + name), value=value, size=size,
                           type=info & 0xF, shndx=shndx)

    def read(self, symbol, length):
        section = self.sections[symbol["shndx"]]
        if section["type"] == SHT_NOBITS:
            raise ValueError(f"{symbol['name']} has no contents in the file")
        at = section["offset"] + symbol["value"] - section["addr"]
        return self.data[at:at + length]

    def berkeley(self):
        """text, data, bss, reserved: allocated sections with contents (read-only or executable;
        writable), writable ones without contents, and read-only ones without contents (the
        linker script's address-space padding and the stack region, which hold nothing)."""
        text = data = bss = reserved = 0
        for s in self.sections:
            if not s["flags"] & SHF_ALLOC:
                continue
            if s["type"] == SHT_NOBITS:
                if s["flags"] & SHF_WRITE:
                    bss += s["size"]
                else:
                    reserved += s["size"]
            elif s["flags"] & SHF_WRITE:
                data += s["size"]
            else:
                text += s["size"]
        return text, data, bss, reserved


def crate_of(name):
    """The first wifiprov crate named in a (legacy- or v0-mangled) symbol, or None."""
    hits = [(name.find(c), c) for c in CRATES if c in name]
    return min(hits)[1] if hits else None


def report(path):
    elf = Elf(open(path, "rb").read())
    text, data, bss, reserved = elf.berkeley()
    shares = {c: 0 for c in CRATES}
    table = None
    for sym in elf.symbols():
        if sym["name"] == "WIFIPROV_STATE_SIZES":
            table = sym
        if sym["type"] not in (STT_FUNC, STT_OBJECT) or sym["shndx"] == 0 or sym["shndx"] >= 0xff00:
            continue
        if not elf.sections[sym["shndx"]]["flags"] & SHF_ALLOC:
            continue
        crate = crate_of(sym["name"])
        if crate:
            shares[crate] += sym["size"]
    if table is None:
        raise ValueError("no WIFIPROV_STATE_SIZES symbol: not the wifiprov firmware, or it was stripped")
    raw = elf.read(table, 4 * len(STATE_NAMES))
    states = struct.unpack(f"<{len(STATE_NAMES)}I", raw)
    stack = sum(x["size"] for x in elf.sections if x["name"] == ".stack")
    return dict(text=text, data=data, bss=bss, reserved=reserved, stack=stack, shares=shares,
                states=dict(zip(STATE_NAMES, states)))


def llvm_size(path):
    for tool in ("llvm-size", "llvm-size-14", "size"):
        try:
            out = subprocess.run([tool, "-B", path], capture_output=True, text=True, check=True)
            return tool, out.stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
    return None, None


def markdown(path, r):
    image = r["text"] + r["data"]
    core = sum(r["shares"][c] for c in CORE)
    lines = [
        "| image | bytes |", "|---|---:|",
        f"| text (code and read-only data, in flash; IRAM code included) | {r['text']} |",
        f"| data (initialised RAM, copied from flash) | {r['data']} |",
        f"| bss (zeroed RAM: statics, the decoders' front, esp-radio's 72 KiB heap) | {r['bss']} |",
        f"| **flash image** (text + data: every section espflash writes) | **{image}** |",
        f"| static RAM (data + bss) | {r['data'] + r['bss']} |",
        f"| stack (the rest of DRAM) | {r['stack']} |",
        "",
        "| crate (symbols named after it; inlined code counts for its caller) | bytes | share of text + data |",
        "|---|---:|---:|",
    ]
    for c in CRATES:
        lines.append(f"| {c} | {r['shares'][c]} | {100 * r['shares'][c] / image:.2f} % |")
    lines.append(f"| **decoder core** ({', '.join(CORE)}) | **{core}** | **{100 * core / image:.2f} %** |")
    lines += ["", "| state (size_of on riscv32imc) | bytes |", "|---|---:|"]
    for name, size in r["states"].items():
        lines.append(f"| {name} | {size} |")
    tool, berkeley = llvm_size(path)
    if berkeley:
        lines += ["", f"`{tool} -B` (it counts the read-only sections without contents — the linker",
                  f"script's address padding and the stack, {r['reserved']} bytes — as text):", "",
                  "```", berkeley.replace(path, "wifiprov-esp32c3"), "```"]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("elf")
    ap.add_argument("--markdown", help="also write the tables to this file")
    ap.add_argument("--tsv", help="also write key<TAB>bytes lines to this file")
    args = ap.parse_args()
    try:
        r = report(args.elf)
    except (OSError, ValueError, struct.error) as e:
        print(f"firmware-size: {args.elf}: {e}", file=sys.stderr)
        return 1
    md = markdown(args.elf, r)
    print(md, end="")
    if args.markdown:
        open(args.markdown, "w").write(md)
    if args.tsv:
        with open(args.tsv, "w") as f:
            for k in ("text", "data", "bss", "stack"):
                f.write(f"{k}\t{r[k]}\n")
            for c, n in r["shares"].items():
                f.write(f"{c}\t{n}\n")
            for name, n in r["states"].items():
                f.write(f"state {re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}\t{n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
