# AirKiss scenario helpers (sourced after guest.sh and esptouch.sh, whose device daemon and stage
# they reuse):
#   ak_send NAME IFACE SSID PASSPHRASE TIMEOUT   the phone's `wifiprov airkiss send` (JSON to $LAB_OUT/NAME.json)
#   ak_acked PHONE_JSON_NAME IP                  true if the phone listed an ack from IP
#   ak_acked_mac PHONE_JSON_NAME MAC             true if an ack carried MAC (ESP-IDF's 7-byte form)

ak_send() {
    local name=$1 ifc=$2 ssid=$3 pass=$4 timeout=$5
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    lab_in "$ifc" "$WIFIPROV" airkiss send --iface "$ifc" --ssid "$ssid" --password "$pass" \
        --timeout "$timeout" --json >"$LAB_OUT/$name.json" 2>"$LAB_OUT/$name.log"
    local rc=$?
    date +%s%3N >"$LAB_STATE/$name.end_ms"
    lab_log "phone $name finished (exit $rc): $(cat "$LAB_OUT/$name.json")"
    return $rc
}

ak_acked() {
    python3 - "$LAB_OUT/$1.json" "$2" <<'PY'
import json, sys
phone = json.load(open(sys.argv[1]))
sys.exit(0 if any(d["ip"] == sys.argv[2] for d in phone.get("devices", [])) else 1)
PY
}

# ak_acked_mac PHONE_JSON_NAME MAC — true if the phone listed an ack carrying MAC (7-byte form).
ak_acked_mac() {
    python3 - "$LAB_OUT/$1.json" "$2" <<'PY'
import json, sys
phone = json.load(open(sys.argv[1]))
sys.exit(0 if any((d.get("mac") or "").lower() == sys.argv[2].lower() for d in phone.get("devices", [])) else 1)
PY
}

# ak_expect_provisioned DEVICE IFACE PHONE SSID PASSPHRASE — the daemon finished, its times go into
# the report, it stored exactly these credentials, and the phone saw its ack.
ak_expect_provisioned() {
    local name=$1 ifc=$2 phone=$3 ip
    et_wait_event "$name" provisioned 20
    et_report_device "$name" "$phone"
    lab_check "${name}_provisioned" et_wait_event "$name" provisioned 1
    lab_check "${name}_stored" et_stored "$name" "$4" "$5"
    ip=$(lab_in "$ifc" ip -4 -o addr show dev "$ifc" | awk '{print $4}' | cut -d/ -f1 | head -n1)
    lab_report_str "${name}_ip" "$ip"
    lab_check "${name}_acked" ak_acked "$phone" "$ip"
}
