#!/bin/bash
# description: ESP-TOUCH v2 with AES (security 2): the device configured with the phone's key is provisioned; a second device with another key reports "key wrong", stores nothing and does not join
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/esptouch_v2.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
KEY='0123456789abcdef'
ET_MONITOR=wlan3 et_setup 5 6 "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 device0, wlan3 monitor, wlan4 device1
# The key goes in the 0600 configuration file, as the daemon's help advises.
printf 'aes_key = "%s"\n' "$KEY" >"$LAB_STATE/device0.toml"
printf 'aes_key = "%s"\n' 'fedcba9876543210' >"$LAB_STATE/device1.toml"
chmod 600 "$LAB_STATE/device0.toml" "$LAB_STATE/device1.toml"
lab_take wlan4 || lab_fail "namespace for device1"
et_device device0 wlan2 --methods esptouch-v2 --config "$LAB_STATE/device0.toml"
et_device device1 wlan4 --methods esptouch-v2 --config "$LAB_STATE/device1.toml" --channels 6
sleep 1
v2_send phone wlan1 "$SSID" "$PASS" 120 --aes-key "$KEY" --security-ver 2
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_check phone_encrypted grep -q '"encrypted":true' "$LAB_OUT/phone.json"
lab_check device0_decrypted bash -c "grep '\"event\":\"credentials\"' '$LAB_OUT/device0.jsonl' | grep -q '\"encrypted\":true'"
lab_check device1_key_wrong lab_wait 30 "device1: key_wrong" grep -q '"event":"key_wrong"' "$LAB_OUT/device1.jsonl"
lab_check device1_not_provisioned v2_no_credentials device1
lab_check device1_not_associated bash -c "! hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan4)'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/device1.jsonl '$LAB_OUT'/device1.log"
lab_check never_logged_key bash -c "! grep -rqF '$KEY' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/device1.jsonl '$LAB_OUT'/device1.log"
lab_no_secrets "$PASS" "$KEY"
lab_finish
