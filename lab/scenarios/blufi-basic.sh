#!/bin/bash
# description: BluFi, current crypto (ffdhe3072 + SHA-256 + AES-256-CTR, version 1.4): `wifiprov blufi` on hci1 gets the Wi-Fi list, sends custom data and the credentials, the device on hci0 joins the home AP and reports CONNECTED
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
bp_device device0 blufi wlan2
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
lab_check name_is_blufi test "$BP_NAME" = BLUFI_DEVICE
lab_check client_ok bp_provision client blufi --scan --custom "hello device" --ssid "$SSID" --passphrase "$PASS"
lab_check client_used_v2 test "$(sa_result client 'r["crypto"]')" = v2
lab_check device_version_1_4 test "$(sa_result client 'r["version"]')" = 1.4
lab_check client_saw_connected test "$(sa_result client 'r["status"]["state"]')" = connected
lab_check status_names_ssid test "$(sa_result client 'r["status"]["ssid"]')" = "$SSID"
lab_check wifi_list_has_home test "$(sa_result client '[e["ssid"] for e in r["scan"]].count("HomeNet ☕")')" = 1
lab_check device_got_custom_data bash -c "grep '\"endpoint\":\"blufi-custom\"' '$LAB_OUT/device0.jsonl' | grep -q '\"len\":12'"
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_has_home_address bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $LAB_SUBNET\.'"
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json' && grep -q '\"method\": *\"blufi\"' '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log"
lab_no_secrets "$PASS"
lab_finish
