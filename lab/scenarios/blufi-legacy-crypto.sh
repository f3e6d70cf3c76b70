#!/bin/bash
# description: BluFi, legacy crypto (DH-1024 + MD5 + AES-128-CFB, version 1.3) at ATT MTU 48 (every message fragmented): `wifiprov blufi` picks V1 from the version, provisions, the device joins and reports CONNECTED
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/softap.sh"
. "$LAB_LIBDIR/ble.sh"
. "$LAB_LIBDIR/ble_prov.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
export LAB_BLE_MTU=48   # the smallest bluetoothd accepts (L2CAP): every message fragmented

lab_check radios lab_radios 3 || lab_fail "no radios"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
lab_check ble lab_ble || lab_fail "BLE did not come up"
bp_device device0 blufi wlan2 --blufi-crypto v1 --service-name BLUFI_LEGACY
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
lab_check client_ok bp_provision client blufi --name BLUFI_LEGACY --ssid "$SSID" --passphrase "$PASS"
lab_check client_used_v1 test "$(sa_result client 'r["crypto"]')" = v1
lab_check device_version_1_3 test "$(sa_result client 'r["version"]')" = 1.3
lab_check mtu_at_most_48 test "$(sa_result client 'r["mtu"]')" -le 48
lab_check client_saw_connected test "$(sa_result client 'r["status"]["state"]')" = connected
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log"
lab_finish
