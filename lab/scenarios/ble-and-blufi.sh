#!/bin/bash
# description: BLE: `device --methods ble,blufi` serves protocomm and BluFi on one adapter (two services, two advertisements); `wifiprov ble --scan` reads the scan list over protocomm, then `wifiprov blufi` provisions over BluFi and the device stops
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/softap.sh"
. "$LAB_LIBDIR/ble.sh"
. "$LAB_LIBDIR/ble_prov.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'

lab_check radios lab_radios 3 || lab_fail "no radios"
lab_check ap lab_ap wlan0 6 "$SSID" "$PASS" || lab_fail "home AP did not come up"
lab_check ble lab_ble || lab_fail "BLE did not come up"
bp_device device0 ble,blufi wlan2 --sec 1 --pop abcd1234
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
lab_check both_advertising lab_wait 20 "both services advertised" \
    bash -c "[ \$(grep -c '\"event\":\"advertising\"' '$LAB_OUT/device0.jsonl') -ge 2 ]"
lab_check ble_scan_ok bp_provision client-ble ble --sec 1 --pop abcd1234 --scan
lab_check ble_scan_lists_home test "$(sa_result client-ble '[e["ssid"] for e in r["scan"]].count("HomeNet ☕")')" = 1
lab_check still_serving bash -c "! grep -q '\"event\":\"provisioned\"' '$LAB_OUT/device0.jsonl'"
lab_check blufi_ok bp_provision client blufi --name BLUFI_DEVICE --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["status"]["state"]')" = connected
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
lab_check provisioned_by_blufi bash -c "grep '\"event\":\"provisioned\"' '$LAB_OUT/device0.jsonl' | grep -q '\"method\":\"blufi\"'"
sa_report_times device0 client
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check device_exited lab_wait 15 "device0 exited" bash -c "! pgrep -f '^[^ ]*wifiprov device --methods ble,blufi' >/dev/null"
lab_finish
