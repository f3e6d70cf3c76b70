#!/usr/bin/env bash
# The reliability and security suite (issue 8, docs/RELIABILITY.md), one command:
#
#   scripts/reliability.sh [--short] [--record] [--fuzz-time SECONDS] [--no-fuzz]
#
# 1. every fuzz target (scripts/fuzz.sh) for SECONDS each (default 120; --short: 15; --no-fuzz:
#    keep the report of an earlier run, target/reliability/fuzz.tsv);
# 2. crash consistency: the credential store's writer SIGKILLed 100 times mid-write;
# 3. secrets hygiene (CLI, SoftAP both ends) and the wrong-proof throttle tests;
# 4. the lab: every fault scenario (lab/scenarios/fault-*.sh) and the methods' scenarios that end
#    with the secrets scan (lab_no_secrets).
# Writes target/reliability/summary.md (the tables of docs/RELIABILITY.md); with --record also
# replaces the results section of docs/RELIABILITY.md. Exits 1 if anything failed.
# CI runs the short version of each part: `scripts/test.sh` runs the cargo tests, `lab/run all`
# (which includes these scenarios) and `scripts/fuzz.sh --time 10`.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzz_time=120
record=0
fuzz=1
while [ $# -gt 0 ]; do
  case "$1" in
    --short) fuzz_time=15; shift ;;
    --record) record=1; shift ;;
    --fuzz-time) fuzz_time="$2"; shift 2 ;;
    --no-fuzz) fuzz=0; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "reliability.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
out=target/reliability
mkdir -p "$out"
failed=0

if [ "$fuzz" = 1 ]; then
  echo "== fuzzing: every target, ${fuzz_time} s each" >&2
  bash scripts/fuzz.sh --time "$fuzz_time" --report "$out/fuzz.tsv" || failed=1
elif [ ! -s "$out/fuzz.tsv" ]; then
  echo "reliability.sh: --no-fuzz needs an earlier run's $out/fuzz.tsv" >&2
  exit 2
fi

echo "== crash consistency, secrets hygiene, throttle" >&2
cargo test --locked -p wifiprov-transport --test store_crash -- --nocapture 2>&1 | tee "$out/store_crash.log" >&2 || failed=1
cargo test --locked -p wifiprov --test secrets 2>&1 | tee "$out/secrets.log" >&2 || failed=1
cargo test --locked -p wifiprov-protocomm throttle 2>&1 | tee "$out/throttle.log" >&2 || failed=1
cargo test --locked -p wifiprov-transport --test softap throttled 2>&1 | tee -a "$out/throttle.log" >&2 || failed=1

echo "== lab: fault scenarios and the methods' secrets scans" >&2
mapfile -t faults < <(cd lab/scenarios && ls fault-*.sh | sed 's/\.sh$//')
mapfile -t secret_scans < <(cd lab/scenarios && grep -l '^lab_no_secrets' ./*.sh | sed 's|^\./||; s/\.sh$//' | grep -v '^fault-')
bash lab/run --jobs "${LAB_JOBS:-2}" "${faults[@]}" "${secret_scans[@]}" || failed=1

python3 - "$out" "$record" "${#faults[@]}" "${faults[@]}" "${secret_scans[@]}" <<'PY'
import json, os, re, sys
out, record, nfaults = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
faults, scans = sys.argv[4:4 + nfaults], sys.argv[4 + nfaults:]
lines = ["| fuzz target | executions | seconds | crashes | status |", "|---|---:|---:|---:|---|"]
try:
    for row in open(os.path.join(out, "fuzz.tsv")):
        cols = row.rstrip("\n").split("\t")
        if cols[0] in ("target", "") or len(cols) < 5:
            continue
        lines.append(f"| `{cols[0]}` | {int(cols[1]):,} | {cols[2]} | {cols[3]} | {cols[4]} |")
except FileNotFoundError:
    lines.append("| (no fuzz report) | | | | |")

def scenario(name):
    try:
        rep = json.load(open(f"lab/out/{name}/report.json"))
    except (OSError, ValueError):
        return "no report", ""
    checks = rep.get("checks", {})
    ok = sum(1 for v in checks.values() if v)
    status = "pass" if rep.get("pass") else "FAIL"
    secs = rep.get("duration_ms") or rep.get("duration_s")
    return status, f"{ok}/{len(checks)} checks"

lines += ["", "| fault scenario | result | checks |", "|---|---|---|"]
for f in faults:
    status, checks = scenario(f)
    lines.append(f"| `{f}` | {status} | {checks} |")
crash = open(os.path.join(out, "store_crash.log")).read()
m = re.search(r"(\d+)/(\d+) kills left a whole state \((\d+) landed", crash)
secrets = open(os.path.join(out, "secrets.log")).read()
sec_ok = re.search(r"test result: ok\. (\d+) passed", secrets)
lines += ["", "| check | result |", "|---|---|"]
lines.append("| crash consistency (SIGKILL while saving) | "
             + (f"{m.group(1)}/{m.group(2)} restarts found a whole state ({m.group(3)} kills mid-write)" if m else "FAILED") + " |")
lines.append("| secrets hygiene, CLI (SoftAP both ends, config/argument errors) | "
             + (f"pass ({sec_ok.group(1)} tests)" if sec_ok else "FAILED") + " |")
throttle = open(os.path.join(out, "throttle.log")).read()
passed = sum(int(n) for n in re.findall(r"test result: ok\. (\d+) passed", throttle))
failed_t = "test result: FAILED" in throttle
lines.append("| wrong-proof throttle (protocomm sec1/sec2, over HTTP) | "
             + ("FAILED" if failed_t or passed == 0 else f"pass ({passed} tests)") + " |")
for s in scans:
    status, checks = scenario(s)
    rep = {}
    try:
        rep = json.load(open(f"lab/out/{s}/report.json"))
    except (OSError, ValueError):
        pass
    clean = rep.get("checks", {}).get("no_secrets_in_outputs")
    lines.append(f"| secrets hygiene, lab `{s}` | " + ("clean" if clean else "FAILED") + f" (scenario {status}) |")
import datetime
lines.insert(0, f"Run of {datetime.date.today().isoformat()} (`scripts/reliability.sh`; fuzz report "
             f"`target/reliability/fuzz.tsv`, a copy in `docs/fuzz-report.tsv`).\n")
table = "\n".join(lines) + "\n"
open(os.path.join(out, "summary.md"), "w").write(table)
print(table)
if record:
    path = "docs/RELIABILITY.md"
    doc = open(path).read()
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin in doc and end in doc:
        head, rest = doc.split(begin, 1)
        _, tail = rest.split(end, 1)
        open(path, "w").write(head + begin + "\n" + table + end + tail)
        print(f"recorded in {path}")
PY
exit "$failed"
