# ESP-TOUCH v1 scenario helpers (sourced after guest.sh). A scenario composes:
#   et_device NAME IFACE [extra daemon options...]   start a wifiprov device daemon (JSON events to $LAB_OUT/NAME.jsonl)
#   et_send NAME IFACE SSID PASSPHRASE DEVICES TIMEOUT   run the phone's `wifiprov esptouch send` (JSON to $LAB_OUT/NAME.json)
#   et_wait_event NAME EVENT TIMEOUT_S                wait until a daemon printed an event
#   et_report_device NAME                            report the daemon's lock/credential/join times (relative to the send)
#   et_acked PHONE_JSON MAC                          true if the phone listed this device

ET_DHCP="busybox udhcpc -i {iface} -f -q -n -t 15 -T 1 -s $LAB_ROOT/contrib/udhcpc-script"

# et_device NAME IFACE [OPTIONS...]
et_device() {
    local name=$1 ifc=$2; shift 2
    mkdir -p "$LAB_STATE/$name"
    lab_in "$ifc" ip link set "$ifc" up
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    _lab_ns "$ifc"   # runs in the radio's namespace if lab_take moved it
    lab_bg "$name" bash -c 'exec "$@" >"$LAB_OUT/'"$name"'.jsonl"' _ \
        "${LAB_NS_EXEC[@]}" "$WIFIPROV" device --iface "$ifc" --json --state-dir "$LAB_STATE/$name" \
        --wpa-ctrl-dir "$LAB_STATE/$name-wpa" --dhcp-command "$ET_DHCP" --timeout 150 "$@"
    lab_log "device $name on $ifc ($(lab_mac "$ifc"))"
}

# et_send NAME IFACE SSID PASSPHRASE DEVICES TIMEOUT — blocks until the phone is done.
et_send() {
    local name=$1 ifc=$2 ssid=$3 pass=$4 devices=$5 timeout=$6
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    lab_in "$ifc" "$WIFIPROV" esptouch send --iface "$ifc" --ssid "$ssid" --password "$pass" \
        --devices "$devices" --timeout "$timeout" --json >"$LAB_OUT/$name.json" 2>"$LAB_OUT/$name.log"
    local rc=$?
    date +%s%3N >"$LAB_STATE/$name.end_ms"
    lab_log "phone $name finished (exit $rc): $(cat "$LAB_OUT/$name.json")"
    return $rc
}

# et_wait_event NAME EVENT TIMEOUT_S
et_wait_event() {
    lab_wait "$3" "$1: $2" grep -q "\"event\":\"$2\"" "$LAB_OUT/$1.jsonl"
}

# et_acked PHONE_JSON_NAME MAC
et_acked() {
    python3 - "$LAB_OUT/$1.json" "$2" <<'PY'
import json, sys
phone = json.load(open(sys.argv[1]))
sys.exit(0 if any(d["mac"] == sys.argv[2] for d in phone.get("devices", [])) else 1)
PY
}

# et_report_device NAME SEND_NAME — times from the phone's first datagram to lock, credentials, joined
# (ms), the device's address, and whether its stored credentials match SSID/PASSPHRASE.
et_report_device() {
    local name=$1 send=$2
    local summary
    summary=$(python3 - "$LAB_OUT/$name.jsonl" "$(cat "$LAB_STATE/$name.start_ms")" \
        "$(cat "$LAB_STATE/$send.start_ms")" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
dev0, send0 = int(sys.argv[2]), int(sys.argv[3])
def at(name, last=False):
    hits = [e for e in events if e["event"] == name]
    if not hits:
        return None
    hit = hits[-1] if last else hits[0]
    # Wall-clock event times (unix_ms) line up with the phone's start exactly; t_ms counts from
    # the daemon's own start, which is later than dev0 by its start-up time.
    if "unix_ms" in hit:
        return hit["unix_ms"] - send0
    return dev0 + hit["t_ms"] - send0
out = {
    "lock_ms": at("locked", last=True),
    "credentials_ms": at("credentials", last=True),
    "joined_ms": at("joined", last=True),
    "ack_sent_ms": at("ack_sent", last=True),
    "failures": [e["reason"] for e in events if e["event"] == "failed"],
    "ip": next((e["ip"] for e in events if e["event"] == "joined"), None),
    "provisioned": any(e["event"] == "provisioned" for e in events),
}
print(json.dumps(out))
PY
)
    lab_report "$name" "$summary"
    lab_log "$name: $summary"
    # The daemon's own wpa_supplicant log, for debugging joins.
    for f in "$LAB_STATE/$name"/*.log; do
        [[ -f $f ]] && cp "$f" "$LAB_OUT/$name-$(basename "$f")"
    done
    return 0
}

# et_stored NAME SSID PASSPHRASE — the daemon's credentials file holds exactly these bytes.
et_stored() {
    python3 - "$LAB_STATE/$1/credentials.json" "$(lab_hex "$2")" "$(lab_hex "$3")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["ssid_hex"] == sys.argv[2] and s["password_hex"] == sys.argv[3] else 1)
PY
}

# et_ip_in_subnet IFACE — the interface has an address of the lab subnet.
et_ip_in_subnet() {
    lab_in "$1" ip -4 addr show dev "$1" | grep -q "inet $LAB_SUBNET\."
}

# et_setup RADIOS CHANNEL SSID PASSPHRASE — the common stage: RADIOS hwsim radios, wlan0 the AP on
# CHANNEL, wlan1 the phone (own namespace), MONITOR_IFACE (default wlan3) capturing to capture.pcap.
et_setup() {
    local radios=$1 ch=$2 ssid=$3 pass=$4 mon=${ET_MONITOR:-wlan3}
    lab_report channel "$ch"
    lab_check radios lab_radios "$radios" || lab_fail "no radios"
    lab_check monitor lab_monitor "$mon" "$ch" capture.pcap || lab_fail "monitor"
    lab_check ap lab_ap wlan0 "$ch" "$ssid" "$pass" || lab_fail "AP did not come up"
    lab_check phone lab_phone wlan1 "$ssid" "$pass" || lab_fail "phone did not associate"
}

# et_expect_provisioned DEVICE IFACE PHONE SSID PASSPHRASE — the phone listed the device, the daemon
# finished, its times go into the report, and it stored exactly these credentials.
et_expect_provisioned() {
    local name=$1 ifc=$2 phone=$3
    lab_check "${name}_acked" et_acked "$phone" "$(lab_mac "$ifc")"
    et_wait_event "$name" provisioned 10
    et_report_device "$name" "$phone"
    lab_check "${name}_provisioned" et_wait_event "$name" provisioned 1
    lab_check "${name}_stored" et_stored "$name" "$4" "$5"
}

# et_wrong_then_right DEVICE IFACE PHONE_IFACE SSID PASSPHRASE WRONG — the phone first sends WRONG: the
# device must report "wrong password", send no ack and listen again; then the right PASSPHRASE
# provisions it (checks and report entries as in et_expect_provisioned).
et_wrong_then_right() {
    local dev=$1 ifc=$2 phone_ifc=$3 ssid=$4 pass=$5 wrong=$6 mac pid
    mac=$(lab_mac "$ifc")
    # Stop sending once the device reported the failure. (`ip netns exec` execs, so $! is the
    # sender itself and SIGINT reaches it.)
    _lab_ns "$phone_ifc"
    "${LAB_NS_EXEC[@]}" "$WIFIPROV" esptouch send --iface "$phone_ifc" --ssid "$ssid" --password "$wrong" \
        --devices 1 --timeout 60 --json >"$LAB_OUT/phone-wrong.json" 2>"$LAB_OUT/phone-wrong.log" &
    pid=$!
    lab_check failure_reported et_wait_event "$dev" failed 60
    kill -INT "$pid" 2>/dev/null
    wait "$pid"
    lab_report_str failure "$(grep '"event":"failed"' "$LAB_OUT/$dev.jsonl" | head -n1)"
    lab_check reason_is_wrong_password grep -q 'wrong password' "$LAB_OUT/$dev.jsonl"
    lab_check no_ack_for_wrong bash -c "! grep -q '$mac' '$LAB_OUT/phone-wrong.json'"
    # The device listens again (a second "listening" event) and is not in monitor mode forever.
    lab_check listening_again bash -c "[ \$(grep -c '\"event\":\"listening\"' '$LAB_OUT/$dev.jsonl') -ge 2 ]"
    et_send phone "$phone_ifc" "$ssid" "$pass" 1 90
    et_expect_provisioned "$dev" "$ifc" phone "$ssid" "$pass"
}
