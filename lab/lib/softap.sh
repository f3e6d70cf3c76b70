# SoftAP scenario helpers (sourced after guest.sh). The device raises its own AP (a second, AP-type
# interface on its radio: AP+STA), the phone joins it, gets an address from the device's dnsmasq
# and runs `wifiprov softap` against 192.168.4.1; the device then joins the home AP (lab_ap).
#   sa_device NAME IFACE [extra daemon options...]   start `wifiprov device --methods softap` (events: $LAB_OUT/NAME.jsonl)
#   sa_wait_serving NAME TIMEOUT_S                    wait for its "serving" event; sets SA_AP_SSID, SA_AP_CHANNEL
#   sa_phone_join IFACE SSID CHANNEL [KEY]            the phone joins the device's AP (open, or WPA2 with KEY) + DHCP
#   sa_provision NAME IFACE ARGS...                   `wifiprov softap --host 192.168.4.1 ... --json` from the phone
#   sa_result NAME FIELD                              a field of the client's JSON result (python expression on `r`)

SA_DHCP="busybox udhcpc -i {iface} -f -q -n -t 15 -T 1 -s $LAB_ROOT/contrib/udhcpc-script"

# The device gives up after SA_DEVICE_TIMEOUT seconds (default 200) without being provisioned.
sa_device() {
    local name=$1 ifc=$2; shift 2
    mkdir -p "$LAB_STATE/$name"
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    lab_bg "$name" bash -c 'exec "$@" >"$LAB_OUT/'"$name"'.jsonl"' _ \
        "$WIFIPROV" device --methods softap --iface "$ifc" --json --state-dir "$LAB_STATE/$name" \
        --wpa-ctrl-dir "$LAB_STATE/$name-wpa" --dhcp-command "$SA_DHCP" --timeout "${SA_DEVICE_TIMEOUT:-200}" "$@"
    lab_log "softap device $name on $ifc ($(lab_mac "$ifc"))"
}

sa_wait_serving() {
    local name=$1 timeout=$2
    lab_wait "$timeout" "$name serving" grep -q '"event":"serving"' "$LAB_OUT/$name.jsonl" || return 1
    local line
    line=$(python3 -c 'import json,sys
e=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{") and "\"serving\"" in l][0]
print(e["ap_ssid"], e["ap_channel"])' "$LAB_OUT/$name.jsonl") || return 1
    read -r SA_AP_SSID SA_AP_CHANNEL <<<"$line"
    lab_log "$name serves AP $SA_AP_SSID on channel $SA_AP_CHANNEL"
}

# sa_phone_join IFACE SSID CHANNEL [KEY] — station on the device's AP, then a DHCP lease from it.
sa_phone_join() {
    local ifc=$1 ssid=$2 ch=$3 key=${4:-} conf="$LAB_STATE/wpa_supplicant-$1-softap.conf"
    umask 077
    {
        echo "ctrl_interface=$LAB_STATE/wpa_supplicant"
        echo "network={"
        echo "	ssid=$(lab_hex "$ssid")"
        if [[ -n $key ]]; then
            echo "	psk=$(lab_psk "$ssid" "$key")"
            echo "	key_mgmt=WPA-PSK"
        else
            echo "	key_mgmt=NONE"
        fi
        echo "	scan_freq=$(lab_chan_freq "$ch")"
        echo "}"
    } >"$conf"
    umask 022
    lab_take "$ifc" || return 1
    lab_in "$ifc" ip link set "$ifc" up
    lab_in "$ifc" wpa_supplicant -B -D nl80211 -i "$ifc" -c "$conf" -t -f "$LAB_OUT/wpa_supplicant-$ifc.log" \
        -P "$LAB_STATE/wpa_supplicant-$ifc.pid" || return 1
    lab_wait 30 "$ifc associated to $ssid" \
        bash -c "wpa_cli -p '$LAB_STATE/wpa_supplicant' -i '$ifc' status | grep -qx wpa_state=COMPLETED" || return 1
    # shellcheck disable=SC2086
    lab_in "$ifc" busybox udhcpc -i "$ifc" -q -n -t 10 -T 1 ${SA_UDHCPC_EXTRA:-} \
        -s "${SA_UDHCPC_SCRIPT:-$LAB_ROOT/contrib/udhcpc-script}" >"$LAB_OUT/phone-udhcpc.log" 2>&1 || return 1
    lab_in "$ifc" ip -4 addr show dev "$ifc" | grep -q 'inet 192\.168\.4\.'
}

# sa_provision NAME IFACE ARGS... — blocks until the client is done; its JSON goes to $LAB_OUT/NAME.json.
sa_provision() {
    local name=$1 ifc=$2; shift 2
    date +%s%3N >"$LAB_STATE/$name.start_ms"
    lab_in "$ifc" "$WIFIPROV" softap --host 192.168.4.1 --json "$@" >"$LAB_OUT/$name.json" 2>"$LAB_OUT/$name.log"
    local rc=$?
    date +%s%3N >"$LAB_STATE/$name.end_ms"
    lab_log "client $name finished (exit $rc): $(cat "$LAB_OUT/$name.json")"
    return $rc
}

# sa_result NAME EXPR — evaluates EXPR on the client's result `r`; prints it (empty on error).
sa_result() {
    python3 -c 'import json,sys
r=json.load(open(sys.argv[1]))
v=eval(sys.argv[2])
print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$LAB_OUT/$1.json" "$2" 2>/dev/null
}

# sa_client_ip_in NAME PREFIX — the client's final status names an address starting with PREFIX.
sa_client_ip_in() {
    local ip
    ip=$(sa_result "$1" 'r["station"]["ip"]')
    [[ $ip == "$2"* ]]
}

# sa_report_times DEVICE CLIENT — the client's duration and the device's credential/join times
# (ms from the client's start).
sa_report_times() {
    local summary
    summary=$(python3 - "$LAB_OUT/$1.jsonl" "$(cat "$LAB_STATE/$2.start_ms")" \
        "$(cat "$LAB_STATE/$2.end_ms")" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
c0, c1 = int(sys.argv[2]), int(sys.argv[3])
def at(name, last=True):
    hits = [e for e in events if e["event"] == name and "unix_ms" in e]
    return ((hits[-1] if last else hits[0])["unix_ms"] - c0) if hits else None
print(json.dumps({"session_ms": at("session"), "established_ms": at("established"),
    "credentials_ms": at("credentials"), "joined_ms": at("joined"), "client_done_ms": c1 - c0,
    "failures": [e["reason"] for e in events if e["event"] == "failed"],
    "ip": next((e["ip"] for e in reversed(events) if e["event"] == "joined"), None),
    "provisioned": any(e["event"] == "provisioned" for e in events)}))
PY
)
    lab_report "$1" "$summary"
    lab_log "$1: $summary"
    for f in "$LAB_STATE/$1"/*.log "$LAB_STATE/$1"/run/*.log; do
        [[ -f $f ]] && cp "$f" "$LAB_OUT/$1-$(basename "$f")"
    done
    return 0
}
