#!/bin/bash
# description: BLE sec2: the device serves protocomm over GATT on hci0, `wifiprov ble` on hci1 finds it by name, provisions it with security 2, the device joins the home AP, the client sees CONNECTED
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/softap.sh"
. "$LAB_LIBDIR/ble.sh"
. "$LAB_LIBDIR/ble_prov.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6

lab_check radios lab_radios 3 || lab_fail "no radios"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
lab_check ble lab_ble || lab_fail "BLE did not come up"
lab_report ble_up_ms "$LAB_BLE_UP_MS"
bp_device device0 ble wlan2 --sec 2 --username wifiprov --password abcd1234
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
lab_check name_is_prov test "${BP_NAME#PROV_}" != "$BP_NAME"
lab_check client_ok bp_provision client ble --name "$BP_NAME" --sec 2 --username wifiprov --password abcd1234 \
    --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check client_got_device_ip sa_client_ip_in client "$LAB_SUBNET."
lab_check client_used_security_2 test "$(sa_result client 'r["security"]')" = 2
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_has_home_address bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $LAB_SUBNET\.'"
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json' && grep -q '\"method\": *\"ble\"' '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log"
lab_no_secrets "$PASS" abcd1234
lab_finish
