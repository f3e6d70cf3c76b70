#!/bin/bash
# description: ESP-TOUCH v1: the phone sends with wifiprov, the device daemon hops, decodes, joins (DHCP) and acks
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=${ET_CHANNEL:-6}

et_setup 4 "$CH" "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 device, wlan3 monitor
DEVICE_MAC=$(lab_mac wlan2)
lab_report_str device_mac "$DEVICE_MAC"
# The hook sees every state change (event name, and the JSON without the password).
et_device device0 wlan2 --hook "echo \"\$WIFIPROV_EVENT\" >>'$LAB_OUT/hook.log'"
sleep 1
et_send phone wlan1 "$SSID" "$PASS" 1 90
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_check device_has_address et_ip_in_subnet wlan2
lab_check device_associated bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$DEVICE_MAC'"
lab_check hook_saw_states bash -c "for e in listening locked credentials joining joined ack_sent provisioned; do grep -qx \$e '$LAB_OUT/hook.log' || exit 1; done"
# Hopping retunes over a kept-open nl80211 socket, not by running iw ten times a second.
lab_check tuned_over_nl80211 grep -q '"tuner":"nl80211"' "$LAB_OUT/device0.jsonl"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/hook.log"
lab_no_secrets "$PASS"
lab_finish
