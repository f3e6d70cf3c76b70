#!/bin/bash
# description: BLE beside sniffing: `device --methods esptouch-v1,ble` sniffs (monitor mode, hopping) while serving protocomm over GATT; `wifiprov ble` sends the credentials, sniffing stops and hands the interface back, the device joins
set -u
. "$LAB_LIB"
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
bp_device device0 esptouch-v1,ble wlan2 --sec 1 --pop abcd1234
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
lab_check sniffing lab_wait 30 "device0 listening" grep -q '"event":"listening"' "$LAB_OUT/device0.jsonl"
lab_check monitor_mode lab_wait 10 "wlan2 in monitor mode" bash -c "iw dev wlan2 info | grep -q 'type monitor'"
lab_check client_ok bp_provision client ble --name "$BP_NAME" --sec 1 --pop abcd1234 \
    --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check client_got_device_ip sa_client_ip_in client "$LAB_SUBNET."
lab_check client_used_security_1 test "$(sa_result client 'r["security"]')" = 1
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check provisioned_by_ble bash -c "grep '\"event\":\"provisioned\"' '$LAB_OUT/device0.jsonl' | grep -q '\"method\":\"ble\"'"
lab_check managed_again bash -c "iw dev wlan2 info | grep -q 'type managed'"
lab_check device_has_home_address bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $LAB_SUBNET\.'"
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json' && grep -q '\"method\": *\"ble\"' '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log"
lab_finish
