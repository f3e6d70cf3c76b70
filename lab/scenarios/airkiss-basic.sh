#!/bin/bash
# description: AirKiss: the phone sends with `wifiprov airkiss send`, the device daemon hops, locks, decodes, joins (DHCP) and broadcasts the random-byte ack the phone sees
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/airkiss.sh"

SSID=${AK_SSID:-'HomeNet ☕'}
PASS=${AK_PASS:-'correct horse battery'}
CH=${AK_CHANNEL:-6}

et_setup 4 "$CH" "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 device, wlan3 monitor
[[ -n ${AK_LOSS:-} ]] && lab_check loss lab_loss wlan1 "$AK_LOSS"
# shellcheck disable=SC2086
et_device device0 wlan2 --methods "${AK_METHODS:-airkiss}" ${AK_DEVICE_ARGS:-}
sleep 1
ak_send phone wlan1 "$SSID" "$PASS" 90
ak_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_check device_associated bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check method_is_airkiss grep -q '"method":"airkiss"' "$LAB_OUT/device0.jsonl"
# ESP-IDF's 7-byte ack form carries the station MAC: the phone reports it.
[[ -n ${AK_EXPECT_MAC:-} ]] && lab_check phone_saw_device_mac ak_acked_mac phone "$(lab_mac wlan2)"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log"
lab_no_secrets "$PASS"
lab_finish
