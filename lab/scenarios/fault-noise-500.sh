#!/bin/bash
# description: fault: ESP-TOUCH v1 while two noise stations send random-length broadcast/multicast datagrams (300/s each asked) that put >= 500 noise frames a second on the channel (their own frames plus the AP's relays, counted in a monitor capture; their send rates reported); the device is provisioned
# timeout: 300
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/faults.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
NOISE=(${FAULT_NOISE_STATIONS:-wlan4 wlan5})
METHOD=${FAULT_METHOD:-esptouch-v1}

lab_check radios lab_radios $((4 + ${#NOISE[@]})) || lab_fail "no radios"
lab_check monitor fault_monitor wlan3 "$CH" capture.pcap 96 || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "AP did not come up"
lab_check phone lab_phone wlan1 "$SSID" "$PASS" || lab_fail "phone did not associate"
FAULT_NOISE_STATIONS="${NOISE[*]}" fault_noise_start "$SSID" "$PASS" 240 || lab_fail "noise stations"
NOISE_MACS=$(for i in "${NOISE[@]}"; do lab_mac "$i"; done | paste -sd,)
et_device device0 wlan2 --methods "$METHOD"
DEV=$LAB_OUT/device0.jsonl
sleep 2
T0=$(lab_ms)
C0=$(fault_tx_packets "${NOISE[@]}")
if [[ $METHOD == esptouch-v2 ]]; then
    . "$LAB_LIBDIR/esptouch_v2.sh"
    v2_send phone wlan1 "$SSID" "$PASS" 150
else
    et_send phone wlan1 "$SSID" "$PASS" 1 150
fi
lab_check credentials_received et_wait_event device0 credentials 5
T1=$(fault_event_ms "$DEV" credentials || lab_ms)
C1=$(fault_tx_packets "${NOISE[@]}")
T2=$(lab_ms)
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_check device_associated bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check method_used grep -q "\"event\":\"credentials\".*\"method\":\"$METHOD\"" "$DEV"
lab_check noise_still_running bash -c "for p in \$(awk '\$1 ~ /^noise-/ {print \$2}' '$LAB_STATE/pids'); do kill -0 \$p || exit 1; done"

# The noise rate: on the air (the monitor's capture, from the phone's start to the device's
# credentials: the noise stations' own frames, and with the AP's relays) and by their counters.
lab_monitor_stop wlan3
AIR=$(fault_airrate capture.pcap "$NOISE_MACS" "$T0" "$T1")
lab_report noise_air "$AIR"
COUNTER_FPS=$(python3 -c "print(round(($C1 - $C0) / (($T2 - $T0) / 1000.0), 1))")
lab_report noise_counter_fps "$COUNTER_FPS"
TX_FPS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tx_fps"])' "$AIR")
AIR_FPS=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["air_fps"])' "$AIR")
lab_report noise_tx_fps "$TX_FPS"
lab_report noise_air_fps "$AIR_FPS"
# Every noise datagram is two frames on the channel: the station's (ToDS) and the AP's relay
# (FromDS); the TCG guest keeps the stations themselves at about 400 a second in all.
lab_check noise_at_least_500_frames_per_s_on_air python3 -c "import sys; sys.exit(0 if $AIR_FPS >= 500 else 1)"
lab_check noise_stations_sent python3 -c "import sys; sys.exit(0 if $COUNTER_FPS >= 100 else 1)"
lab_finish
