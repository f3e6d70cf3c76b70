# shellcheck shell=bash
# Fault-injection helpers for the lab's fault-* scenarios (sourced after guest.sh and, as needed,
# esptouch.sh / softap.sh):
#   fault_on_event JSONL EVENT TIMEOUT_S CMD...  background watcher: run CMD the moment the daemon
#                                                prints EVENT (the time goes to $LAB_STATE/fault-EVENT.ms)
#   fault_watch_wait EVENT TIMEOUT_S             wait until that watcher has acted
#   fault_event_ms JSONL EVENT [N]               unix_ms of the N-th (default 1st; -1 = last) EVENT
#   fault_event_count JSONL EVENT                how many EVENT lines
#   fault_event_field JSONL EVENT FIELD [N]      a field of the N-th EVENT (JSON-encoded)
#   fault_after_nth JSONL EVENT N AFTER_EVENT    true if some AFTER_EVENT comes after the N-th EVENT
#   fault_exited PID TIMEOUT_S                   wait (bounded) for a child of this shell to exit;
#                                                its status in FAULT_STATUS; 1 if still running
#   fault_noise NAME IFACE SSID PASS IP SECONDS RATE   a fast noise station (lab/lib/noise.py)
#   fault_airrate PCAP MACS FROM_MS TO_MS        frame rates in a window (lab/lib/airrate.py)
#   fault_hostapd_stop IFACE / fault_hostapd_start IFACE   stop / restart lab_ap's hostapd (dnsmasq stays)
#   fault_sta_completed IFACE                    the station's wpa_supplicant says COMPLETED

# fault_on_event JSONL EVENT TIMEOUT_S CMD... — follows JSONL in the background (python, 20 ms
# polls) and runs CMD once as soon as a line with "event":"EVENT" appears; writes the wall-clock
# time it acted (ms) to $LAB_STATE/fault-EVENT.ms and CMD's output to $LAB_OUT/fault-EVENT.log.
fault_on_event() {
    local file=$1 event=$2 timeout=$3; shift 3
    lab_bg "fault-watch-$event" timeout "$timeout" python3 -c '
import json, os, subprocess, sys, time
path, event, stamp, log = sys.argv[1:5]
cmd = sys.argv[5:]
pos = 0
while True:
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            chunk = f.read()
    except OSError:
        chunk = b""
    if chunk:
        # Only whole lines.
        cut = chunk.rfind(b"\n") + 1
        for line in chunk[:cut].splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if e.get("event") == event:
                t = int(time.time() * 1000)
                with open(log, "wb") as out:
                    rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT)
                with open(stamp + ".tmp", "w") as s:
                    s.write("%d %d %d\n" % (t, e.get("unix_ms", 0), rc))
                os.replace(stamp + ".tmp", stamp)
                print("acted on", event, "at", t, "event at", e.get("unix_ms"), "rc", rc, flush=True)
                sys.exit(0)
        pos += cut
    time.sleep(0.02)
' "$file" "$event" "$LAB_STATE/fault-$event.ms" "$LAB_OUT/fault-$event.log" "$@"
}

fault_watch_wait() { lab_wait "$2" "fault on $1" test -s "$LAB_STATE/fault-$1.ms"; }

# fault_watch_delay_ms EVENT — ms between the daemon's event (its unix_ms) and the fault.
fault_watch_delay_ms() {
    local acted ev _rc
    read -r acted ev _rc <"$LAB_STATE/fault-$1.ms" || return 1
    echo $((acted - ev))
}

_fault_events_py='import json, sys
def events(path, name):
    out = []
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.startswith("{"):
            continue
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("event") == name:
            out.append(e)
    return out
'

fault_event_ms() {
    python3 -c "$_fault_events_py"'
ev = events(sys.argv[1], sys.argv[2]); n = int(sys.argv[3])
idx = n - 1 if n > 0 else n
try:
    print(ev[idx]["unix_ms"])
except IndexError:
    sys.exit(1)' "$1" "$2" "${3:-1}"
}

fault_event_count() {
    python3 -c "$_fault_events_py"'
print(len(events(sys.argv[1], sys.argv[2])))' "$1" "$2"
}

fault_event_field() {
    python3 -c "$_fault_events_py"'
ev = events(sys.argv[1], sys.argv[2]); n = int(sys.argv[4])
idx = n - 1 if n > 0 else n
try:
    print(json.dumps(ev[idx].get(sys.argv[3])))
except IndexError:
    sys.exit(1)' "$1" "$2" "$3" "${4:-1}"
}

# fault_after_nth JSONL EVENT N AFTER — true if an AFTER event follows the N-th EVENT (file order).
fault_after_nth() {
    python3 -c 'import json, sys
path, name, n, after = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
seen = 0
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("event") == name:
        seen += 1
    elif seen >= n and e.get("event") == after:
        sys.exit(0)
sys.exit(1)' "$@"
}

# fault_exited PID TIMEOUT_S — bounded wait for a background child of this shell; FAULT_STATUS = its
# exit status. Returns 1 (and FAULT_STATUS=running) if it is still alive after TIMEOUT_S.
fault_exited() {
    local pid=$1
    if ! lab_wait "$2" "pid $pid exits" bash -c "! kill -0 $pid 2>/dev/null"; then
        FAULT_STATUS=running
        return 1
    fi
    wait "$pid" 2>/dev/null
    FAULT_STATUS=$?
    return 0
}

# fault_noise NAME IFACE SSID PASS IP SECONDS RATE — a station (lab_station) sending RATE random
# datagrams a second (broadcast and 234.x multicast, lengths 1..1400) for SECONDS; its summary line
# goes to $LAB_OUT/NAME.log at the end.
fault_noise() {
    local name=$1 ifc=$2 ssid=$3 pass=$4 ip=$5 secs=$6 rate=$7
    lab_station "$ifc" "$ssid" "$pass" || return 1
    lab_in "$ifc" ip addr add "${ip%/*}/24" dev "$ifc"
    _lab_ns "$ifc"
    lab_bg "$name" "${LAB_NS_EXEC[@]}" timeout "$((secs + 10))" python3 "$LAB_LIBDIR/noise.py" "$ifc" "$secs" "$rate"
    lab_log "noise station $ifc ($name) sending for ${secs}s at ${rate}/s"
}

fault_airrate() {
    python3 "$LAB_LIBDIR/airrate.py" "$LAB_OUT/$1" "$2" "$3" "$4"
}

# fault_hostapd_stop IFACE — stop lab_ap's hostapd (SIGTERM: stations are deauthenticated), bounded.
fault_hostapd_stop() {
    local pidf="$LAB_STATE/hostapd-$1.pid" pid
    pid=$(cat "$pidf") || return 1
    kill "$pid" || return 1
    lab_wait 10 "hostapd $1 exits" bash -c "! kill -0 $pid 2>/dev/null" || return 1
    rm -f "$pidf"
}

# fault_hostapd_start IFACE — start it again with lab_ap's configuration; waits for ENABLED.
fault_hostapd_start() {
    local ifc=$1
    lab_in "$ifc" hostapd -B -t -P "$LAB_STATE/hostapd-$ifc.pid" -f "$LAB_OUT/hostapd-$ifc-2.log" \
        "$LAB_STATE/hostapd-$ifc.conf" || return 1
    lab_wait 20 "hostapd on $ifc enabled again" \
        bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i '$ifc' status | grep -qx state=ENABLED"
}

fault_sta_completed() {
    lab_in "$1" wpa_cli -p "$LAB_STATE/wpa_supplicant" -i "$1" status 2>/dev/null | grep -qx wpa_state=COMPLETED
}

# fault_wpa_field IFACE FIELD [CTRL_DIR] — a field of `wpa_cli status` (e.g. bssid, ssid).
fault_wpa_field() {
    lab_in "$1" wpa_cli -p "${3:-$LAB_STATE/wpa_supplicant}" -i "$1" status 2>/dev/null | sed -n "s/^$2=//p"
}

# fault_monitor IFACE CHANNEL PCAP SNAPLEN — lab_monitor with a short snap length (headers only:
# a capture of 1000 frames/s stays small); stopped by lab_monitor_stop / lab_finish.
fault_monitor() {
    local ifc=$1 ch=$2 pcap=$3 snap=$4
    ip link set "$ifc" down
    iw dev "$ifc" set type monitor || return 1
    ip link set "$ifc" up
    iw dev "$ifc" set channel "$ch" || return 1
    tcpdump -i "$ifc" -U -Z root -s "$snap" -B 8192 -w "$LAB_OUT/$pcap" >"$LAB_OUT/tcpdump-$ifc.log" 2>&1 &
    echo "$ifc $!" >>"$LAB_STATE/monitors"
    lab_wait 10 "tcpdump on $ifc" grep -q 'listening on' "$LAB_OUT/tcpdump-$ifc.log" || return 1
    lab_log "monitor $ifc on ch $ch -> $pcap (snap $snap)"
}

# fault_tx_packets IFACE... — the sum of the interfaces' tx_packets counters (in their namespaces).
fault_tx_packets() {
    local ifc sum=0 n
    for ifc in "$@"; do
        n=$(lab_in "$ifc" cat "/sys/class/net/$ifc/statistics/tx_packets") || return 1
        sum=$((sum + n))
    done
    echo "$sum"
}

# fault_noise_start SSID PASS SECONDS — shared by the fault-noise-* scenarios: FAULT_NOISE_STATIONS
# (default wlan4 wlan5) associate first (addresses .3, .4, …), then all start sending at once,
# FAULT_NOISE_RATE datagrams a second each (default 300) for SECONDS (logs: noise-IFACE.log).
fault_noise_start() {
    local ssid=$1 pass=$2 secs=$3 ifc i=3
    for ifc in ${FAULT_NOISE_STATIONS:-wlan4 wlan5}; do
        lab_check "noise_station_$ifc" lab_station "$ifc" "$ssid" "$pass" || return 1
        lab_in "$ifc" ip addr add "$LAB_SUBNET.$i/24" dev "$ifc"
        i=$((i + 1))
    done
    for ifc in ${FAULT_NOISE_STATIONS:-wlan4 wlan5}; do
        _lab_ns "$ifc"
        lab_bg "noise-$ifc" "${LAB_NS_EXEC[@]}" timeout "$((secs + 10))" python3 "$LAB_LIBDIR/noise.py" "$ifc" "$secs" \
            "${FAULT_NOISE_RATE:-300}"
    done
    lab_log "noise stations ${FAULT_NOISE_STATIONS:-wlan4 wlan5} sending for ${secs}s at ${FAULT_NOISE_RATE:-300}/s each"
}
