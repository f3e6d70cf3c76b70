#!/bin/bash
# description: lab self-test: WPA2 AP (UTF-8 SSID) on ch 6, phone associates and broadcasts, monitor captures
#
# Exercises only lab components (no wifiprov): 3 hwsim radios — wlan0 AP, wlan1 phone, wlan2 monitor.
# AP and phone each run in their own network namespace (lab-wlan0, lab-wlan1); see lab_take.
# The phone sends 50 UDP broadcasts with distinct payload lengths (100..149) to 255.255.255.255:7001; the
# capture must show them (as CCMP data frames of length payload + 76/78) in both directions.
set -u
. "$LAB_LIB"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
LENS=$(seq -s, 100 149)

lab_report_str ssid "$SSID"
# Not a check (this scenario does not need wifiprov): shows the binary is reachable in the guest.
lab_report_str wifiprov "${WIFIPROV:-unset}: $( [[ -x ${WIFIPROV:-/nonexistent} ]] && "$WIFIPROV" --version 2>&1 | head -n1)"
lab_report channel "$CH"
lab_check radios lab_radios 3 || lab_fail "no radios"
lab_report_str regdomain "$(iw reg get | sed -n 's/^country \([A-Z0-9]*\).*/\1/p' | head -n1)"
lab_check monitor lab_monitor wlan2 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "AP did not come up"
lab_report ap_up_uptime_s "$LAB_AP_UP_S"
lab_check phone lab_phone wlan1 "$SSID" "$PASS" 192.168.77.2 || lab_fail "phone did not associate"
lab_report phone_assoc_ms "$LAB_PHONE_ASSOC_MS"
lab_report_str phone_mac "$LAB_PHONE_MAC"
lab_report_str ap_bssid "$LAB_AP_BSSID"
# wpa_cli prints the SSID with non-ASCII bytes as \xNN escapes; decode and compare byte for byte.
seen=$(wpa_cli -p "$LAB_STATE/wpa_supplicant" -i wlan1 status | sed -n 's/^ssid=//p')
lab_report_str phone_ssid_seen "$(printf '%b' "$seen")"
lab_check ssid_bytes test "$(lab_hex "$(printf '%b' "$seen")")" = "$(lab_hex "$SSID")"
lab_report_str crypto_modules "$(lsmod | awk '$1 ~ /^(ccm|ctr|aes|gcm|cmac|libarc4|sch_netem)/ {printf "%s ", $1}')"
lab_check ap_sees_phone bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$LAB_PHONE_MAC'"

t0=$(lab_ms)
# shellcheck disable=SC2046
lab_check send lab_send_bcast wlan1 7001 $(seq 100 149)
lab_report send_ms "$(( $(lab_ms) - t0 ))"
sleep 1
lab_report phone_tx_packets "$(lab_in wlan1 cat /sys/class/net/wlan1/statistics/tx_packets)"
lab_report ap_rx_packets "$(lab_in wlan0 cat /sys/class/net/wlan0/statistics/rx_packets)"
# Unicast both ways over the air (AP and phone are in separate network namespaces).
lab_check phone_ping_ap lab_in wlan1 busybox ping -q -c 3 -W 2 192.168.77.1
lab_monitor_stop wlan2
lab_report capture_bytes "$(stat -c %s "$LAB_OUT/capture.pcap")"
frames=$(lab_frames capture.pcap "$LAB_PHONE_MAC" "$LENS")
lab_report capture "$frames"
lab_log "capture: $frames"
to_ds=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["to_ds_matched"])' "$frames")
from_ds=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["from_ds_matched"])' "$frames")
# hwsim's medium is lossless, so every length should appear; allow a little slack.
lab_check capture_phone_frames test "$to_ds" -ge 45
lab_check capture_ap_relayed test "$from_ds" -ge 45
lab_report setup_to_traffic_s "$(awk -v a="$(lab_uptime)" -v b="${LAB_BOOT_S:-0}" 'BEGIN{printf "%.2f", a-b}')"
lab_finish
