# shellcheck shell=bash
# Guest-side library for lab scenarios. A scenario starts with
#     . "$LAB_LIB"
# and composes the functions below; see lab/README.md for the list. Runs inside the VM (bash from the
# shared host root). Environment from the init: LAB_NAME LAB_OUT LAB_ROOT LAB_LIB WIFIPROV LAB_BOOT_S.
#
# Conventions: every wait is bounded; daemons log into $LAB_OUT; runtime state (pid files, control
# sockets, configs holding keys) lives in $LAB_STATE (tmpfs, gone with the VM); the report is built from
# lab_report/lab_check calls and written to $LAB_OUT/report.json by lab_finish or, if the script dies
# early, by the EXIT trap (then with "pass": false).

: "${LAB_OUT:=/labout}" "${LAB_NAME:=scenario}" "${LAB_ROOT:=}" "${WIFIPROV:=}"
LAB_STATE=/run/lab
LAB_LIBDIR="$(dirname "${BASH_SOURCE[0]}")"
LAB_SUBNET=192.168.77
mkdir -p "$LAB_STATE" "$LAB_OUT"
: >"$LAB_STATE/report.tsv"
: >"$LAB_STATE/pids"
_LAB_FINISHED=0
_LAB_T0_MS=$(date +%s%3N)

# ------------------------------------------------------------------ basics

lab_log() { printf '[%6s %s] %s\n' "$(lab_uptime)" "$LAB_NAME" "$*" >&2; }
lab_uptime() { cut -d' ' -f1 /proc/uptime; }   # seconds since the guest kernel started
lab_ms() { date +%s%3N; }                       # wall clock in ms (for durations)

# lab_wait TIMEOUT_S DESCRIPTION CMD... — poll CMD every 0.2 s until it succeeds; 1 on timeout.
lab_wait() {
    local timeout=$1 desc=$2; shift 2
    local deadline=$(( $(lab_ms) + timeout * 1000 ))
    until "$@" >/dev/null 2>&1; do
        if (( $(lab_ms) >= deadline )); then
            lab_log "timeout (${timeout}s) waiting for: $desc"
            return 1
        fi
        sleep 0.2
    done
}

# lab_bg NAME CMD... — run CMD in the background, output to $LAB_OUT/NAME.log; killed by lab_finish.
lab_bg() {
    local name=$1; shift
    "$@" >"$LAB_OUT/$name.log" 2>&1 &
    echo "$name $!" >>"$LAB_STATE/pids"
    LAB_LAST_PID=$!
}

# ------------------------------------------------------------------ network namespaces
# All radios live in one kernel. Without separation, addresses of the AP, phone and device are all
# local to the same IP stack: unicast between them is delivered over loopback, never on the air, and
# packets arriving over the air with a "local" source address are dropped as martians. So the lab roles
# (lab_ap, lab_station/lab_phone, lab_noise) move their radio's phy into a network namespace of its own,
# named lab-IFACE; run commands there with lab_in IFACE CMD... Radios no role took (the devices under
# test, the monitor) stay in the root namespace.

# lab_take IFACE — move IFACE's phy into namespace lab-IFACE (idempotent); lo up, IPv6 off there.
lab_take() {
    local ifc=$1 ns="lab-$1" phy
    ip netns list 2>/dev/null | grep -qw "$ns" && return 0
    phy=$(cat "/sys/class/net/$ifc/phy80211/name") || { lab_log "no phy for $ifc"; return 1; }
    ip netns add "$ns" || return 1
    iw phy "$phy" set netns name "$ns" || { lab_log "cannot move $phy to $ns"; return 1; }
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 \
        "net.ipv6.conf.$ifc.disable_ipv6=1" 2>/dev/null || true
}

# lab_in IFACE CMD... — run CMD in IFACE's namespace (lab-IFACE if lab_take moved it, else the root).
lab_in() {
    local ns="lab-$1"; shift
    if [[ -e /run/netns/$ns ]]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

# _lab_ns IFACE — sets LAB_NS_EXEC to the command prefix (array) that enters IFACE's namespace, so
# background jobs can be started without a wrapper shell in between (signals reach the real process).
_lab_ns() {
    LAB_NS_EXEC=()
    [[ -e /run/netns/lab-$1 ]] && LAB_NS_EXEC=(ip netns exec "lab-$1")
    return 0
}

lab_hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }   # bytes -> lowercase hex
lab_mac() { lab_in "$1" cat "/sys/class/net/$1/address"; }

# lab_psk SSID PASSPHRASE — the WPA2 PSK (PBKDF2-HMAC-SHA1, 4096 rounds) as 64 hex digits. Using the
# hex PSK in both hostapd and wpa_supplicant configs sidesteps any quoting of UTF-8, spaces or quotes.
lab_psk() {
    python3 -c 'import hashlib,sys
s=sys.argv[1].encode("utf-8","surrogateescape"); p=sys.argv[2].encode("utf-8","surrogateescape")
assert 8 <= len(p) <= 63, "passphrase must be 8..63 bytes"
print(hashlib.pbkdf2_hmac("sha1", p, s, 4096, 32).hex())' "$1" "$2"
}

lab_chan_freq() { # channel (1-14) -> MHz
    local c=$1
    if ((c == 14)); then echo 2484; else echo $((2407 + 5 * c)); fi
}

# ------------------------------------------------------------------ radios

# lab_radios N — load mac80211_hwsim with N radios (wlan0..wlanN-1), give each a distinct, stable MAC
# 02:1a:b0:00:00:0i (i = index), disable IPv6. Sets the regulatory domain to $LAB_COUNTRY (default DE,
# so channels 12 and 13 are usable) when the regulatory database loads.
lab_radios() {
    local n=$1 i
    sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
    modprobe mac80211_hwsim radios="$n" || { lab_log "modprobe mac80211_hwsim failed"; return 1; }
    for ((i = 0; i < n; i++)); do
        lab_wait 10 "wlan$i" test -e "/sys/class/net/wlan$i" || return 1
        ip link set "wlan$i" down
        ip link set "wlan$i" address "$(printf '02:1a:b0:00:00:%02x' "$i")"
        sysctl -qw "net.ipv6.conf.wlan$i.disable_ipv6=1" 2>/dev/null || true
    done
    if [[ -n ${LAB_COUNTRY-DE} ]]; then
        iw reg set "${LAB_COUNTRY-DE}" 2>/dev/null || true
        lab_wait 5 "regdomain ${LAB_COUNTRY-DE}" bash -c "iw reg get | grep -q 'country ${LAB_COUNTRY-DE}'" ||
            lab_log "regulatory domain stays world (channels 12/13 are no-IR there)"
    fi
    lab_log "radios: $(cd /sys/class/net && echo wlan*)"
}

# ------------------------------------------------------------------ access point

# lab_ap IFACE CHANNEL SSID PASSPHRASE [BSSID] — hostapd WPA2-PSK/CCMP on CHANNEL (2.4 GHz, 1-13);
# SSID and passphrase are arbitrary bytes (UTF-8, spaces, quotes). Puts 192.168.77.1/24 on IFACE and
# serves DHCP 192.168.77.50-150 with dnsmasq. Sets LAB_AP_UP_S (guest uptime when the AP was enabled),
# LAB_AP_IFACE, LAB_AP_CHANNEL, LAB_AP_BSSID. Control socket: $LAB_STATE/hostapd.
lab_ap() {
    local ifc=$1 ch=$2 ssid=$3 pass=$4 bssid=${5:-}
    local conf="$LAB_STATE/hostapd-$ifc.conf" psk
    psk=$(lab_psk "$ssid" "$pass") || return 1
    lab_take "$ifc" || return 1
    if [[ -n $bssid ]]; then
        lab_in "$ifc" ip link set "$ifc" down
        lab_in "$ifc" ip link set "$ifc" address "$bssid"
    fi
    umask 077
    cat >"$conf" <<EOF
interface=$ifc
driver=nl80211
ctrl_interface=$LAB_STATE/hostapd
ssid2=$(lab_hex "$ssid")
utf8_ssid=1
hw_mode=g
channel=$ch
beacon_int=100
auth_algs=1
wpa=2
wpa_key_mgmt=WPA-PSK
rsn_pairwise=CCMP
wpa_psk=$psk
EOF
    umask 022
    lab_in "$ifc" hostapd -B -t -P "$LAB_STATE/hostapd-$ifc.pid" -f "$LAB_OUT/hostapd-$ifc.log" "$conf" ||
        { lab_log "hostapd failed to start"; return 1; }
    lab_wait 20 "hostapd on $ifc enabled" \
        bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i '$ifc' status | grep -qx state=ENABLED" || return 1
    LAB_AP_UP_S=$(lab_uptime)
    LAB_AP_IFACE=$ifc
    LAB_AP_CHANNEL=$ch
    LAB_AP_BSSID=$(lab_mac "$ifc")
    lab_in "$ifc" ip addr add "$LAB_SUBNET.1/24" dev "$ifc"
    lab_in "$ifc" dnsmasq --conf-file=/dev/null --user=root --port=0 --interface="$ifc" --bind-interfaces \
        --dhcp-range="$LAB_SUBNET.50,$LAB_SUBNET.150,255.255.255.0,1h" --dhcp-authoritative \
        --dhcp-leasefile="$LAB_STATE/dnsmasq-$ifc.leases" --pid-file="$LAB_STATE/dnsmasq-$ifc.pid" \
        --log-dhcp --log-facility="$LAB_OUT/dnsmasq-$ifc.log" ||
        { lab_log "dnsmasq failed to start"; return 1; }
    lab_log "AP up on $ifc ch $ch bssid $LAB_AP_BSSID (uptime ${LAB_AP_UP_S}s)"
}

# lab_ap_stations [IFACE] — MACs associated to the AP, one per line.
lab_ap_stations() {
    hostapd_cli -p "$LAB_STATE/hostapd" -i "${1:-$LAB_AP_IFACE}" all_sta 2>/dev/null |
        grep -E '^([0-9a-f]{2}:){5}[0-9a-f]{2}$'
}

# ------------------------------------------------------------------ stations

# lab_station IFACE SSID PASSPHRASE [TIMEOUT_S] — wpa_supplicant station; returns when
# wpa_state=COMPLETED (bounded, default 30 s). Sets LAB_ASSOC_MS (start -> COMPLETED). Once lab_ap ran,
# the station scans only the AP's channel (a full 2.4+5 GHz hwsim scan costs ~5 s under TCG); set
# LAB_FULL_SCAN=1 to scan everything.
# Control socket: $LAB_STATE/wpa_supplicant/IFACE (use: wpa_cli -p $LAB_STATE/wpa_supplicant -i IFACE).
lab_station() {
    local ifc=$1 ssid=$2 pass=$3 timeout=${4:-30}
    local conf="$LAB_STATE/wpa_supplicant-$ifc.conf" psk t0
    psk=$(lab_psk "$ssid" "$pass") || return 1
    umask 077
    cat >"$conf" <<EOF
ctrl_interface=$LAB_STATE/wpa_supplicant
update_config=0
network={
	ssid=$(lab_hex "$ssid")
	psk=$psk
	key_mgmt=WPA-PSK
	proto=RSN
	pairwise=CCMP
	group=CCMP
$([[ -n ${LAB_AP_CHANNEL:-} && ${LAB_FULL_SCAN:-0} != 1 ]] && echo "	scan_freq=$(lab_chan_freq "$LAB_AP_CHANNEL")")
}
EOF
    umask 022
    lab_take "$ifc" || return 1
    lab_in "$ifc" ip link set "$ifc" up
    t0=$(lab_ms)
    lab_in "$ifc" wpa_supplicant -B -D nl80211 -i "$ifc" -c "$conf" -t -f "$LAB_OUT/wpa_supplicant-$ifc.log" \
        -P "$LAB_STATE/wpa_supplicant-$ifc.pid" || { lab_log "wpa_supplicant failed on $ifc"; return 1; }
    lab_wait "$timeout" "$ifc wpa_state=COMPLETED" \
        bash -c "wpa_cli -p '$LAB_STATE/wpa_supplicant' -i '$ifc' status | grep -qx wpa_state=COMPLETED" ||
        return 1
    LAB_ASSOC_MS=$(( $(lab_ms) - t0 ))
    lab_log "$ifc associated in ${LAB_ASSOC_MS} ms"
}

# lab_phone IFACE SSID PASSPHRASE [IP] — the phone: a station (lab_station) plus a static address
# (default 192.168.77.2/24). Sets LAB_PHONE_IFACE, LAB_PHONE_MAC, LAB_PHONE_IP, LAB_PHONE_ASSOC_MS.
lab_phone() {
    local ifc=$1 ip=${4:-$LAB_SUBNET.2}
    lab_station "$ifc" "$2" "$3" || return 1
    lab_in "$ifc" ip addr add "${ip%/*}/24" dev "$ifc"
    LAB_PHONE_IFACE=$ifc LAB_PHONE_MAC=$(lab_mac "$ifc") LAB_PHONE_IP=${ip%/*}
    LAB_PHONE_ASSOC_MS=$LAB_ASSOC_MS
}

# lab_send_bcast IFACE PORT LEN... — one UDP broadcast to 255.255.255.255:PORT per LEN (payload bytes),
# from IFACE (SO_BINDTODEVICE), $LAB_BCAST_GAP seconds apart (default 0.02).
lab_send_bcast() {
    local ifc=$1 port=$2; shift 2
    lab_in "$ifc" python3 -c 'import socket,sys,time
ifc, port, gap = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifc.encode())
for n in sys.argv[4:]:
    s.sendto(b"L" * int(n), ("255.255.255.255", port)); time.sleep(gap)' \
        "$ifc" "$port" "${LAB_BCAST_GAP:-0.02}" "$@"
}

# lab_noise IFACE SSID PASSPHRASE IP [SECONDS] [PER_SECOND] — a noise station: associates to the AP,
# takes IP, then for SECONDS (default 60) sends PER_SECOND (default 20) UDP broadcasts of random
# length (1..1400 bytes) to port 7002, in the background (stopped by lab_finish at the latest).
lab_noise() {
    local ifc=$1 ip=$4 secs=${5:-60} rate=${6:-20}
    lab_station "$ifc" "$2" "$3" || return 1
    lab_in "$ifc" ip addr add "${ip%/*}/24" dev "$ifc"
    _lab_ns "$ifc"
    lab_bg "noise-$ifc" "${LAB_NS_EXEC[@]}" timeout "$((secs + 5))" python3 -c 'import random,socket,sys,time
ifc, secs, rate = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifc.encode())
end, n = time.time() + secs, 0
while time.time() < end:
    s.sendto(bytes(random.getrandbits(8) for _ in range(random.randint(1, 1400))), ("255.255.255.255", 7002))
    n += 1; time.sleep(1.0 / rate)
print("sent", n)' "$ifc" "$secs" "$rate"
    lab_log "noise station $ifc sending for ${secs}s at ${rate}/s"
}

# lab_loss IFACE PERCENT — drop PERCENT % of IFACE's outgoing packets (tc netem).
lab_loss() {
    modprobe sch_netem || return 1
    lab_in "$1" tc qdisc replace dev "$1" root netem loss "$2%" || return 1
    lab_log "netem loss $2% on $1"
}

# ------------------------------------------------------------------ NetworkManager

# lab_networkmanager IFACE... — start the system D-Bus, a D-Bus-controlled wpa_supplicant and
# NetworkManager in the root namespace, managing only IFACE... (every other interface, the monitor
# and hwsim0 included, is unmanaged by configuration). NetworkManager does DHCP itself (internal
# client), does not touch DNS, and stores connections in $LAB_STATE/nm-connections. Waits until
# every IFACE is at least "disconnected" (NetworkManager can use it). Logs: $LAB_OUT/udevd.log,
# dbus.log, nm-wpa.log, NetworkManager.log.
lab_networkmanager() {
    local ifc except=""
    for ifc in "$@"; do except+="${except:+,}except:interface-name:$ifc"; done
    mkdir -p /run/dbus /run/NetworkManager /var/lib/NetworkManager "$LAB_STATE/nm-connections" "$LAB_STATE/nm-wpa"
    [[ -s /etc/machine-id ]] || dbus-uuidgen --ensure=/etc/machine-id
    # NetworkManager only manages links udev has initialized: run udevd and replay a "change"
    # event for every network interface ("add" would apply .link files: renames, MAC policies).
    # (The scenario runs chrooted: systemd tools refuse to act unless told to ignore that.)
    export SYSTEMD_IGNORE_CHROOT=1
    lab_bg udevd /lib/systemd/systemd-udevd
    lab_wait 10 "udevd" test -S /run/udev/control || return 1
    udevadm trigger --subsystem-match=net --action=change && udevadm settle -t 10 || return 1
    lab_bg dbus dbus-daemon --system --nofork --nopidfile
    lab_wait 10 "system bus" test -S /run/dbus/system_bus_socket || return 1
    # NetworkManager's supplicant: D-Bus control only (-u), its own control directory.
    lab_bg nm-wpa wpa_supplicant -u -t -O "$LAB_STATE/nm-wpa"
    lab_wait 10 "wpa_supplicant on D-Bus" bash -c \
        "dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.ListNames | grep -q fi.w1.wpa_supplicant1" || return 1
    cat >"$LAB_STATE/NetworkManager.conf" <<EOF_NM
[main]
plugins=keyfile
no-auto-default=*
dhcp=internal
dns=none
rc-manager=unmanaged
[keyfile]
path=$LAB_STATE/nm-connections
unmanaged-devices=$except
[device]
wifi.scan-rand-mac-address=no
[connectivity]
enabled=false
EOF_NM
    lab_bg NetworkManager NetworkManager --debug --log-level=INFO --config "$LAB_STATE/NetworkManager.conf" \
        --state-file "$LAB_STATE/NetworkManager.state"
    for ifc in "$@"; do
        lab_wait 30 "NetworkManager manages $ifc" bash -c \
            "nmcli -t -f DEVICE,STATE device 2>/dev/null | grep -Eq '^$ifc:(disconnected|connected)'" || {
            nmcli device >&2
            return 1
        }
    done
    lab_log "NetworkManager up, managing: $*"
}

# lab_nm_state IFACE — NetworkManager's state of IFACE (e.g. unmanaged, disconnected, connected).
lab_nm_state() {
    nmcli -t -f DEVICE,STATE device 2>/dev/null | sed -n "s/^$1://p"
}

# lab_nm_is IFACE STATE — true if NetworkManager's state of IFACE is STATE.
lab_nm_is() { [[ $(lab_nm_state "$1") == "$2" ]]; }

# lab_nm_leaves IFACE — true if NetworkManager does not manage IFACE (unmanaged, or not even listed:
# it ignores monitor-mode interfaces).
lab_nm_leaves() { local s; s=$(lab_nm_state "$1"); [[ -z $s || $s == unmanaged ]]; }

# ------------------------------------------------------------------ capture

# lab_monitor IFACE CHANNEL PCAP — IFACE into monitor mode on CHANNEL; tcpdump writes radiotap+802.11
# frames to $LAB_OUT/PCAP (packet-buffered). Stopped (SIGINT, bounded) by lab_monitor_stop / lab_finish.
lab_monitor() {
    local ifc=$1 ch=$2 pcap=$3
    lab_in "$ifc" ip link set "$ifc" down
    lab_in "$ifc" iw dev "$ifc" set type monitor || return 1
    lab_in "$ifc" ip link set "$ifc" up
    lab_in "$ifc" iw dev "$ifc" set channel "$ch" || return 1
    _lab_ns "$ifc"
    "${LAB_NS_EXEC[@]}" tcpdump -i "$ifc" -U -Z root -w "$LAB_OUT/$pcap" >"$LAB_OUT/tcpdump-$ifc.log" 2>&1 &
    echo "$ifc $!" >>"$LAB_STATE/monitors"
    lab_wait 10 "tcpdump on $ifc" grep -q 'listening on' "$LAB_OUT/tcpdump-$ifc.log" || return 1
    lab_log "monitor $ifc on ch $ch -> $pcap"
}

# lab_monitor_stop [IFACE] — stop one (or every) capture and wait for the pcap to be complete.
lab_monitor_stop() {
    local want=${1:-} ifc pid rest=()
    [[ -f $LAB_STATE/monitors ]] || return 0
    while read -r ifc pid; do
        if [[ -z $want || $want == "$ifc" ]]; then
            kill -INT "$pid" 2>/dev/null
            lab_wait 5 "tcpdump $ifc exit" bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null
        else
            rest+=("$ifc $pid")
        fi
    done <"$LAB_STATE/monitors"
    printf '%s\n' "${rest[@]}" | grep . >"$LAB_STATE/monitors" || true
}

# lab_frames PCAP [STA_MAC] [LEN,LEN,...] — JSON summary of a capture (lab/lib/frames.py): frame counts
# by type, and for STA_MAC the data frames whose UDP payload length (recovered from the 802.11 frame
# length) is one of LEN: to_ds (sent by the station) and from_ds (relayed by the AP).
lab_frames() {
    python3 "$LAB_LIBDIR/frames.py" "$LAB_OUT/$1" "${2:-}" "${3:-}"
}

# ------------------------------------------------------------------ report

# lab_report KEY VALUE — VALUE is stored as JSON if it parses as JSON (number, true/false/null,
# object, array), else as a string. lab_report_str KEY VALUE always stores a string.
lab_report() { _lab_tsv "$1" raw "$2"; }
lab_report_str() { _lab_tsv "$1" str "$2"; }
_lab_tsv() { # key kind value; tabs and newlines in the value become spaces
    local v=${3//$'\t'/ }
    printf '%s\t%s\t%s\n' "$1" "$2" "${v//$'\n'/ }" >>"$LAB_STATE/report.tsv"
}

# lab_check NAME CMD... — run CMD; record checks.NAME = true/false. Returns CMD's status.
lab_check() {
    local name=$1; shift
    if "$@"; then
        printf '%s\tcheck\ttrue\n' "$name" >>"$LAB_STATE/report.tsv"; lab_log "check $name: ok"
    else
        printf '%s\tcheck\tfalse\n' "$name" >>"$LAB_STATE/report.tsv"; lab_log "check $name: FAILED"
        return 1
    fi
}

# lab_fail MESSAGE — record the error and finish with "pass": false.
lab_fail() { lab_report_str error "$*"; lab_log "FAIL: $*"; lab_finish fail; }

_lab_write_report() { # verdict: pass | fail | auto
    python3 - "$LAB_STATE/report.tsv" "$LAB_OUT/report.json" "$1" "$LAB_NAME" \
        "$(( $(lab_ms) - _LAB_T0_MS ))" "${LAB_BOOT_S:-}" <<'PY'
import json, os, sys
src, dst, verdict, name, dur_ms, boot_s = sys.argv[1:7]
rep = {"scenario": name}
checks = {}
for line in open(src, encoding="utf-8", errors="surrogateescape"):
    key, kind, val = line.rstrip("\n").split("\t", 2)
    if kind == "check":
        checks[key] = val == "true"
    elif kind == "raw":
        try:
            rep[key] = json.loads(val)
        except ValueError:
            rep[key] = val
    else:
        rep[key] = val
if checks:
    rep["checks"] = checks
rep["scenario_ms"] = int(dur_ms)
if boot_s:
    rep["boot_s"] = float(boot_s)
if verdict == "fail":
    rep["pass"] = False
elif verdict == "pass":
    rep["pass"] = all(checks.values()) and rep.get("pass", True) is True
elif True:
    rep["pass"] = bool(checks) and all(checks.values()) and rep.get("pass", True) is True
tmp = dst + ".tmp"
with open(tmp, "w", encoding="utf-8", errors="surrogateescape") as f:
    json.dump(rep, f, indent=2, ensure_ascii=False)
    f.write("\n")
    f.flush(); os.fsync(f.fileno())
os.replace(tmp, dst)
print("report:", json.dumps(rep, ensure_ascii=False))
PY
}

_lab_cleanup() {
    local name pid f
    lab_monitor_stop
    while read -r name pid; do
        [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null
    done <"$LAB_STATE/pids"
    for f in "$LAB_STATE"/*.pid; do
        [[ -f $f ]] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 0.3
    sync
}

# lab_finish [pass|fail] — stop captures and daemons, write $LAB_OUT/report.json and exit; the init
# then syncs and runs poweroff -f. Without an argument, pass = every lab_check passed (and at least one
# ran) and no "pass" was reported as false.
lab_finish() {
    local verdict=${1:-auto} rc=0
    _LAB_FINISHED=1
    trap - EXIT
    _lab_cleanup
    _lab_write_report "$verdict" >&2 || rc=1
    sync
    [[ $verdict == fail ]] && rc=1
    exit "$rc"
}

_lab_on_exit() {
    local rc=$?
    ((_LAB_FINISHED)) && return
    if ((${_LAB_TERM:-0})); then
        lab_report_str error "terminated (guest time limit) during: ${BASH_COMMAND}"
    else
        lab_report_str error "scenario ended without lab_finish (exit $rc, last command: ${BASH_COMMAND})"
    fi
    _LAB_FINISHED=1
    _lab_cleanup
    _lab_write_report fail >&2
}
trap _lab_on_exit EXIT
trap '_LAB_TERM=1; exit 143' TERM
