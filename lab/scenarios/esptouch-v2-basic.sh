#!/bin/bash
# description: ESP-TOUCH v2: the phone sends with `wifiprov esptouch send --v2`, the device daemon hops, locks, decodes, joins (DHCP) and broadcasts the 7-byte response (port mark + MAC) the phone lists
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/esptouch_v2.sh"

SSID=${V2_SSID:-'HomeNet ☕'}
PASS=${V2_PASS:-'correct horse battery'}
CH=${V2_CHANNEL:-6}

et_setup 4 "$CH" "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 device, wlan3 monitor
[[ -n ${V2_LOSS:-} ]] && lab_check loss lab_loss wlan1 "$V2_LOSS"
# shellcheck disable=SC2086
et_device device0 wlan2 --methods esptouch-v2 ${V2_DEVICE_ARGS:-}
sleep 1
# shellcheck disable=SC2086
v2_send phone wlan1 "$SSID" "$PASS" 120 ${V2_SEND_ARGS:-}
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_check device_associated bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check method_is_v2 grep -q '"event":"credentials".*"method":"esptouch-v2"' "$LAB_OUT/device0.jsonl"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log"
lab_finish
