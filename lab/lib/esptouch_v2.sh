# ESP-TOUCH v2 scenario helpers (sourced after guest.sh and esptouch.sh, whose device daemon, stage
# and checks they reuse):
#   v2_send NAME IFACE SSID PASSPHRASE TIMEOUT [OPTION...]  the phone's `wifiprov esptouch send --v2`
#                                                  (JSON to $LAB_OUT/NAME.json)
#   v2_stored_reserved NAME HEX                    the daemon's credentials file holds reserved data HEX
#   v2_no_credentials NAME                         the daemon stored nothing and reported no credentials

v2_send() {
    local name=$1 ifc=$2 ssid=$3 pass=$4 timeout=$5
    shift 5
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    lab_in "$ifc" "$WIFIPROV" esptouch send --v2 --iface "$ifc" --ssid "$ssid" --password "$pass" \
        --devices 1 --timeout "$timeout" --json "$@" >"$LAB_OUT/$name.json" 2>"$LAB_OUT/$name.log"
    local rc=$?
    date +%s%3N >"$LAB_STATE/$name.end_ms"
    lab_log "phone $name finished (exit $rc): $(cat "$LAB_OUT/$name.json")"
    return $rc
}

v2_stored_reserved() {
    python3 - "$LAB_STATE/$1/credentials.json" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s.get("reserved_hex") == sys.argv[2] else 1)
PY
}

v2_no_credentials() {
    [[ ! -e $LAB_STATE/$1/credentials.json ]] && ! grep -q '"event":"credentials"' "$LAB_OUT/$1.jsonl"
}
