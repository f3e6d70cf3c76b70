#!/usr/bin/env bash
# Builds the ESP32-C3 firmware (release) and the no-heap guard for riscv32imc-unknown-none-elf,
# then prints the size report (scripts/firmware-size.py). Fails if either does not build.
#
#   scripts/firmware.sh            build, report to stdout and firmware/target/firmware-size.{md,tsv}
#   scripts/firmware.sh --record   also write the report into docs/firmware-size.md
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TARGET=riscv32imc-unknown-none-elf
record=0
for a in "$@"; do
    case $a in
        --record) record=1 ;;
        -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "firmware.sh: unknown option $a" >&2; exit 2 ;;
    esac
done
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
    echo "firmware.sh: adding the $TARGET target" >&2
    rustup target add "$TARGET" >&2
fi
cd firmware
# The firmware's decoder core must be the host workspace's crates, not a copy: every wifiprov
# package in the firmware's dependency graph other than its own two lives under crates/.
cargo metadata --format-version 1 --locked --filter-platform "$TARGET" | python3 -c '
import json, os, sys
root = os.path.realpath(sys.argv[1])
own = {"wifiprov-esp32c3", "wifiprov-nostd-check"}
core = {"wifiprov-front", "wifiprov-sniff", "wifiprov-esptouch", "wifiprov-airkiss"}
found = {}
for p in json.load(sys.stdin)["packages"]:
    if p["name"].startswith("wifiprov-") and p["name"] not in own:
        found[p["name"]] = os.path.realpath(p["manifest_path"])
bad = {n: m for n, m in found.items() if not m.startswith(os.path.join(root, "crates") + os.sep)}
missing = core - set(found)
if bad or missing:
    sys.exit(f"firmware.sh: the firmware must use the core crates of crates/: wrong {bad}, missing {sorted(missing)}")
print("firmware.sh: decoder core from crates/: " + ", ".join(sorted(found)), file=sys.stderr)
' "$ROOT"
t0=$(date +%s)
# The guard first: the core without std and without any allocator.
cargo build --release --locked -p wifiprov-nostd-check
cargo build --release --locked -p wifiprov-esp32c3
echo "firmware.sh: built in $(( $(date +%s) - t0 )) s" >&2
elf=target/$TARGET/release/wifiprov-esp32c3
python3 "$ROOT/scripts/firmware-size.py" "$elf" --markdown target/firmware-size.md --tsv target/firmware-size.tsv
if ((record)); then
    {
        echo "# Firmware size (ESP32-C3)"
        echo
        echo "Written by \`scripts/firmware.sh --record\` on $(date -u +%Y-%m-%d) from a release build"
        echo "(\`opt-level = \"s\"\`, fat LTO) of \`firmware/esp32c3\` with $(rustc --version | cut -d' ' -f1-2)."
        echo "CI prints the same tables on every run. How the figures are taken: \`firmware/README.md\`."
        echo
        cat target/firmware-size.md
    } >"$ROOT/docs/firmware-size.md"
    echo "firmware.sh: recorded docs/firmware-size.md" >&2
fi
