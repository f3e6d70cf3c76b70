#!/usr/bin/env bash
# The whole test suite: formatting, lints, every test of the workspace (doctests included), the
# fuzz targets briefly, the ESP32-C3 firmware build with its size report, and the virtual radio
# lab. Reference data is read in place from ../shared (override with WIFIPROV_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
stage() { printf '[test] %s (%d s so far)\n' "$*" "$(( $(date +%s) - T0 ))" >&2; }
stage "fmt"
cargo fmt --all -- --check
(cd firmware && cargo fmt --all -- --check)
stage "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
stage "cargo test"
cargo test --workspace --locked
# Every fuzz target briefly, from the committed seeds (docs/fuzzing.md; nightly + cargo-fuzz,
# installed by the script if missing).
stage "fuzz"
bash scripts/fuzz.sh --time "${FUZZ_TIME:-8}" --jobs 2
# The firmware for riscv32imc-unknown-none-elf and the no-heap guard; fails if either does not
# build; prints the size report (firmware/README.md).
stage "firmware"
bash scripts/firmware.sh
# The virtual radio lab: every scenario, end to end on hwsim radios (installs its packages; root);
# two one-vCPU VMs at a time (LAB_JOBS overrides), the browser scenario alone. A scenario that
# fails is run once more (LAB_RETRIES overrides); a pass on the second try is reported as such.
stage "lab"
bash lab/run --jobs "${LAB_JOBS:-2}" --retries "${LAB_RETRIES:-1}" all
stage "done"
