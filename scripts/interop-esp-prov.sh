#!/usr/bin/env bash
# Interop check against Espressif's reference client esp_prov (NOT part of this repository and
# never fetched or built by it): runs `wifiprov device --methods softap --no-ap --backend record`
# on 127.0.0.1 and provisions it with esp_prov for security 0 (with a scan), 1 (PoP + custom
# data) and 2 (patch 1 and patch 0), plus a wrong security-2 password that must fail.
#
#   IDF_PATH=/path/to/esp-idf-v5.5 PY=/path/to/venv/bin/python scripts/interop-esp-prov.sh [ESP_PROV_DIR]
#
# IDF_PATH must hold tools/esp_prov, components/protocomm/python and
# components/wifi_provisioning/python (ESP-IDF v5.5.x); PY a Python with protobuf and
# cryptography. ESP_PROV_DIR (default $IDF_PATH/tools/esp_prov) may point at the
# network_provisioning copy (idf-extra-components) instead. Prints one line per case.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${IDF_PATH:?set IDF_PATH to an ESP-IDF v5.5 tree with tools/esp_prov}"
: "${PY:=python3}"
DIR=${1:-$IDF_PATH/tools/esp_prov}
[[ -f $DIR/esp_prov.py ]] || { echo "no esp_prov.py in $DIR" >&2; exit 2; }
WIFIPROV=${WIFIPROV:-target/release/wifiprov}
[[ -x $WIFIPROV ]] || cargo build -q --release -p wifiprov || exit 2
WIFIPROV=$(realpath "$WIFIPROV")
PORT=${PORT:-18080}
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$TMP"' EXIT
printf '[{"ssid":"HomeNet","channel":6,"rssi":-40,"bssid":"24:0a:c4:77:00:01","auth":3},{"ssid":"Cafe","channel":1,"rssi":-70,"auth":0}]' >"$TMP/scan.json"
failed=0

# case NAME EXPECT(ok|fail) "DEVICE ARGS" ESP_PROV ARGS...
case_run() {
    local name=$1 expect=$2 device_args=$3; shift 3
    rm -rf "$TMP/state"
    # shellcheck disable=SC2086
    "$WIFIPROV" device --methods softap --listen "127.0.0.1:$PORT" --no-ap --backend record \
        --state-dir "$TMP/state" --custom-endpoint custom-data --scan-json "$TMP/scan.json" --json \
        $device_args >"$TMP/$name.device.jsonl" 2>&1 &
    local pid=$!
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    (cd "$DIR" && echo 1 | timeout 120 "$PY" esp_prov.py --transport softap \
        --service_name "127.0.0.1:$PORT" "$@") >"$TMP/$name.esp_prov.log" 2>&1
    local rc=$?
    sleep 2
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    local ok=0 stored=no
    grep -q '==== Provisioning was successful ====' "$TMP/$name.esp_prov.log" && ok=1
    [[ -f $TMP/state/credentials.json ]] && grep -q 736563726574313233 "$TMP/state/credentials.json" && stored=yes
    local verdict=FAIL
    if [[ $expect == ok && $ok == 1 && $stored == yes ]]; then verdict=PASS; fi
    if [[ $expect == fail && $ok == 0 && $rc != 0 && $stored == no ]]; then verdict=PASS; fi
    [[ $verdict == PASS ]] || { failed=1; tail -n 15 "$TMP/$name.esp_prov.log" >&2; }
    printf '%-22s %s  (esp_prov exit %s, success line %s, credentials stored %s)\n' "$name" "$verdict" "$rc" "$ok" "$stored"
}

case_run sec0-scan ok "--sec 0" --passphrase secret123
case_run sec1-pop-custom ok "--sec 1 --pop abcd1234" --sec_ver 1 --pop abcd1234 --ssid HomeNet \
    --passphrase secret123 --custom_data hello
case_run sec2-patch1 ok "--sec 2 --username wifiprov --password abcd1234" --sec_ver 2 \
    --sec2_username wifiprov --sec2_pwd abcd1234 --ssid HomeNet --passphrase secret123
case_run sec2-patch0 ok "--sec 2 --username wifiprov --password abcd1234 --sec2-patch 0" --sec_ver 2 \
    --sec2_username wifiprov --sec2_pwd abcd1234 --ssid HomeNet --passphrase secret123
case_run sec2-example-verifier ok "--sec 2 --username wifiprov --salt-hex 036ee0c7bcb9eda84c9eac97d93decf4 --verifier-hex $(
    python3 -c 'import json;print(json.load(open("'"${WIFIPROV_SHARED:-../shared}"'/vectors/protocomm-sec2.json"))["transcripts"][0]["inputs"]["verifier_hex"])')" \
    --sec_ver 2 --sec2_username wifiprov --sec2_pwd abcd1234 --ssid HomeNet --passphrase secret123
case_run sec2-wrong-password fail "--sec 2 --username wifiprov --password abcd1234" --sec_ver 2 \
    --sec2_username wifiprov --sec2_pwd wrong-one --ssid HomeNet --passphrase secret123
case_run sec1-wrong-pop fail "--sec 1 --pop abcd1234" --sec_ver 1 --pop nope --ssid HomeNet \
    --passphrase secret123
exit $failed
