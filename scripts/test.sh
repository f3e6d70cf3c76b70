#!/usr/bin/env bash
# The whole test suite: formatting, lints, and every test of the workspace (doctests included).
# Reference data is read in place from ../shared (override with WIFIPROV_SHARED).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# Every fuzz target briefly, from the committed seeds (docs/fuzzing.md; nightly + cargo-fuzz,
# installed by the script if missing).
bash scripts/fuzz.sh --time "${FUZZ_TIME:-10}" --jobs 2
# The virtual radio lab: every scenario, end to end on hwsim radios (installs its packages; root);
# two VMs at a time (LAB_JOBS overrides), the browser scenario alone.
bash lab/run --jobs "${LAB_JOBS:-2}" all
