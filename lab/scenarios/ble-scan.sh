#!/bin/bash
# description: BLE: `wifiprov ble --scan` gets the device's Wi-Fi scan list over GATT (two lab APs, fetched 4 entries per request), then provisions it with security 1
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/softap.sh"
. "$LAB_LIBDIR/ble.sh"
. "$LAB_LIBDIR/ble_prov.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
OTHER='Cafe Open'

lab_check radios lab_radios 4 || lab_fail "no radios"
lab_check ap lab_ap wlan0 6 "$SSID" "$PASS" || lab_fail "home AP did not come up"
lab_check second_ap lab_ap wlan3 11 "$OTHER" "another passphrase" || lab_fail "second AP did not come up"
lab_check ble lab_ble || lab_fail "BLE did not come up"
bp_device device0 ble wlan2 --sec 1 --pop abcd1234
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
lab_check device_scanned_both test "$(python3 -c 'import json,sys
print([json.loads(l) for l in open(sys.argv[1]) if "\"advertising\"" in l][0]["scanned"])' "$LAB_OUT/device0.jsonl")" -ge 2
lab_check client_scan_ok bp_provision client-scan ble --sec 1 --pop abcd1234 --scan
lab_check scan_lists_home test "$(sa_result client-scan '[e["ssid"] for e in r["scan"]].count("HomeNet ☕")')" = 1
lab_check scan_lists_other test "$(sa_result client-scan '[e["ssid"] for e in r["scan"]].count("Cafe Open")')" = 1
lab_check scan_home_channel test "$(sa_result client-scan '[e["channel"] for e in r["scan"] if e["ssid"]=="HomeNet ☕"][0]')" = 6
lab_check scan_other_channel test "$(sa_result client-scan '[e["channel"] for e in r["scan"] if e["ssid"]=="Cafe Open"][0]')" = 11
lab_check scan_home_auth_wpa2 test "$(sa_result client-scan '[e["auth"] for e in r["scan"] if e["ssid"]=="HomeNet ☕"][0]')" = 3
lab_check client_ok bp_provision client ble --name "$BP_NAME" --sec 1 --pop abcd1234 --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_finish
