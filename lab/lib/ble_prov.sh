# shellcheck shell=bash
# BLE provisioning helpers (sourced after guest.sh, ble.sh and softap.sh; call lab_ble first).
# The device serves on hci0 (`wifiprov device --methods ble|blufi`) and has a Wi-Fi station
# interface to join the home AP with; the phone runs `wifiprov ble|blufi` on hci1.
#   bp_device NAME METHOD IFACE [extra daemon options...]  start the device (events: $LAB_OUT/NAME.jsonl)
#   bp_wait_advertising NAME TIMEOUT_S                      wait for its "advertising" event; sets BP_NAME, BP_ADDR
#   bp_provision NAME COMMAND ARGS...                       `wifiprov COMMAND --hci hci1 ... --json` (ble or blufi)
# Results are read with sa_result / sa_report_times (softap.sh), which work on the same files.

# The device gives up after BP_DEVICE_TIMEOUT seconds (default 200) without being provisioned.
bp_device() {
    local name=$1 method=$2 ifc=$3; shift 3
    mkdir -p "$LAB_STATE/$name"
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    lab_bg "$name" bash -c 'exec "$@" >"$LAB_OUT/'"$name"'.jsonl"' _ \
        "$WIFIPROV" device --methods "$method" --hci "$LAB_BLE_DEV_HCI" --iface "$ifc" --json \
        --state-dir "$LAB_STATE/$name" --wpa-ctrl-dir "$LAB_STATE/$name-wpa" --dhcp-command "$SA_DHCP" \
        --timeout "${BP_DEVICE_TIMEOUT:-200}" "$@"
    lab_log "$method device $name on $LAB_BLE_DEV_HCI, Wi-Fi $ifc ($(lab_mac "$ifc"))"
}

bp_wait_advertising() {
    local name=$1 timeout=$2 line
    lab_wait "$timeout" "$name advertising" grep -q '"event":"advertising"' "$LAB_OUT/$name.jsonl" || return 1
    line=$(python3 -c 'import json,sys
e=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and "\"advertising\"" in l][0]
print(e["name"], e["address"])' "$LAB_OUT/$name.jsonl") || return 1
    read -r BP_NAME BP_ADDR <<<"$line"
    lab_log "$name advertises $BP_NAME as $BP_ADDR"
}

# bp_provision NAME COMMAND ARGS... — blocks until the client is done; its JSON goes to $LAB_OUT/NAME.json.
bp_provision() {
    local name=$1 command=$2; shift 2
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    "$WIFIPROV" "$command" --hci "$LAB_BLE_PHONE_HCI" --json "$@" >"$LAB_OUT/$name.json" 2>"$LAB_OUT/$name.log"
    local rc=$?
    date +%s%3N >"$LAB_STATE/$name.end_ms"
    lab_log "client $name finished (exit $rc): $(cat "$LAB_OUT/$name.json")"
    return $rc
}
