#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ (see docs/fuzzing.md).
#
#   scripts/fuzz.sh [--time SECONDS] [--jobs N] [--report FILE] [--keep-corpus] [TARGET...]
#
# Builds every target once (nightly, no sanitizer, debug assertions on: integer overflow and
# debug_assert! count as crashes), then runs each TARGET (default: every target of
# `cargo fuzz list`) for SECONDS (default 60), N targets at a time (default 1). Each run starts
# from the committed seeds in fuzz/corpus/TARGET, read only; what it finds goes to a scratch
# corpus under fuzz/target/scratch/TARGET (emptied first unless --keep-corpus), crash inputs to
# fuzz/target/scratch/TARGET/artifacts/. Prints one line per target; --report writes the same
# as TSV (target, executions, seconds, crashes, status, artifact). Exits 1 if a target crashed,
# timed out or ran out of memory, 2 on a usage or build error.
set -euo pipefail

time_per_target=60
jobs=1
report=""
keep_corpus=0
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --time) time_per_target="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --report) report="$2"; shift 2 ;;
    --keep-corpus) keep_corpus=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$time_per_target$jobs" in
  *[!0-9]*) echo "fuzz.sh: --time and --jobs take whole numbers" >&2; exit 2 ;;
esac
[ "$jobs" -ge 1 ] || jobs=1

# The report path is taken relative to where the script was started.
if [ -n "$report" ]; then
  case "$report" in
    /*) ;;
    *) report="$PWD/$report" ;;
  esac
fi
cd "$(dirname "$0")/.."
root="$PWD"

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi

build_start=$(date +%s)
if ! cargo +nightly fuzz build --sanitizer none --debug-assertions >&2; then
  echo "fuzz.sh: the fuzz targets do not build" >&2
  exit 2
fi
echo "fuzz.sh: built in $(( $(date +%s) - build_start )) s" >&2

if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir="$root/fuzz/target/$triple/release"
scratch="$root/fuzz/target/scratch"

# Longest input per target: observation streams hold thousands of frames, a capture file some
# packets; the rest are messages or small programs.
max_len() {
  case "$1" in
    esptouch_v1|esptouch_v2|airkiss|front) echo 32768 ;;
    pcap) echo 65536 ;;
    ieee80211|radiotap) echo 2048 ;;
    http) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

# Extra libFuzzer flags per target.
extra_flags() {
  case "$1" in
    # The QR parser warns on stderr about version/transport mismatches (as the CLI should).
    qr) echo "-close_fd_mask=2" ;;
    *) echo "" ;;
  esac
}

# Runs one target; writes its result line (TSV) to $scratch/TARGET/result.
run_target() {
  local target="$1" dir="$scratch/$1" bin="$bin_dir/$1"
  local seeds="$root/fuzz/corpus/$1"
  if [ ! -x "$bin" ]; then
    printf '%s\t0\t0\t0\tmissing\t-\n' "$target" > "$dir.result"
    return
  fi
  if [ "$keep_corpus" -eq 0 ]; then
    rm -rf "$dir"
  fi
  mkdir -p "$dir/corpus" "$dir/artifacts"
  rm -f "$dir"/artifacts/*
  local dirs=("$dir/corpus")
  [ -d "$seeds" ] && dirs+=("$seeds")
  local start end status=0
  start=$(date +%s)
  # shellcheck disable=SC2046 # extra_flags is a word list
  timeout --kill-after=10 $(( time_per_target + 120 )) \
    "$bin" "${dirs[@]}" \
      -max_total_time="$time_per_target" -print_final_stats=1 -max_len="$(max_len "$target")" \
      -timeout=20 -rss_limit_mb=2048 -artifact_prefix="$dir/artifacts/" \
      $(extra_flags "$target") > "$dir/log" 2>&1 || status=$?
  end=$(date +%s)
  local execs crashes artifact outcome
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  execs=${execs:-0}
  crashes=$(find "$dir/artifacts" -type f | wc -l | tr -d ' ')
  artifact=$(find "$dir/artifacts" -type f | head -n 1)
  if [ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]; then
    outcome=ok
  else
    case "$(basename "${artifact:-none}")" in
      crash-*) outcome=crash ;;
      timeout-*) outcome=timeout ;;
      oom-*) outcome=oom ;;
      leak-*) outcome=leak ;;
      slow-unit-*) outcome=slow ;;
      *) outcome="error($status)" ;;
    esac
    [ "$crashes" -gt 0 ] || crashes=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$execs" "$(( end - start ))" "$crashes" "$outcome" \
    "${artifact:--}" > "$dir.result"
}

mkdir -p "$scratch"
running=0
for target in "${targets[@]}"; do
  rm -f "$scratch/$target.result"
  run_target "$target" &
  running=$(( running + 1 ))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$(( running - 1 ))
  fi
done
wait || true

failed=0
lines=()
printf '%-16s %14s %8s %8s  %s\n' target executions seconds crashes status
for target in "${targets[@]}"; do
  line=$(cat "$scratch/$target.result" 2>/dev/null || printf '%s\t0\t0\t0\tnot run\t-' "$target")
  lines+=("$line")
  IFS=$'\t' read -r name execs seconds crashes outcome artifact <<< "$line"
  printf '%-16s %14s %8s %8s  %s\n' "$name" "$execs" "$seconds" "$crashes" "$outcome"
  if [ "$outcome" != ok ]; then
    failed=1
    echo "  $name: $outcome; input: $artifact; log: $scratch/$name/log" >&2
    echo "  reproduce: $bin_dir/$name $artifact" >&2
  fi
done
if [ -n "$report" ]; then
  {
    printf 'target\texecutions\tseconds\tcrashes\tstatus\tartifact\n'
    for line in "${lines[@]}"; do
      # Paths in the report are relative to the repository.
      printf '%s\n' "${line//$root\//}"
    done
  } > "$report"
fi
exit "$failed"
