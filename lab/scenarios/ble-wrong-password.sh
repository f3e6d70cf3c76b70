#!/bin/bash
# description: BLE: a wrong Wi-Fi passphrase gives the client AuthError over GATT, the device stays provisionable (same process, still advertising) and a second `wifiprov ble` run succeeds
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/softap.sh"
. "$LAB_LIBDIR/ble.sh"
. "$LAB_LIBDIR/ble_prov.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
WRONG='incorrect horse battery'
CH=6
export LAB_BLE_MTU=185   # iOS's usual MTU: the sec2 messages (about 410 bytes) need ATT long writes and reads

lab_check radios lab_radios 3 || lab_fail "no radios"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
lab_check ble lab_ble || lab_fail "BLE did not come up"
bp_device device0 ble wlan2 --sec 2 --username wifiprov --password abcd1234 --connect-timeout 15
lab_check device_advertising bp_wait_advertising device0 60 || lab_fail "the device did not advertise"
DEVICE_PID=$(pgrep -f "wifiprov device --methods ble" | head -n1)
# First attempt: the wrong passphrase. The client must exit non-zero and name the reason.
bp_provision client-wrong ble --name "$BP_NAME" --sec 2 --username wifiprov --password abcd1234 \
    --ssid "$SSID" --passphrase "$WRONG"
lab_check client_failed test "$(sa_result client-wrong 'r["result"]')" = error
lab_check client_saw_auth_error test "$(sa_result client-wrong 'r["error"]')" = connection_failed
lab_check reason_is_auth_error bash -c "grep -q AuthError '$LAB_OUT/client-wrong.json'"
lab_check device_reported_failure grep -q '"event":"failed"' "$LAB_OUT/device0.jsonl"
lab_check device_not_provisioned bash -c "! grep -q '\"event\":\"provisioned\"' '$LAB_OUT/device0.jsonl'"
lab_check same_device_process test "$(pgrep -f "wifiprov device --methods ble" | head -n1)" = "$DEVICE_PID"
# Second attempt, a new BLE connection (a new protocomm session): the right one. The device takes
# new credentials after a failed attempt (network_provisioning >= 1.2.2 behaviour).
lab_check client_ok bp_provision client ble --address "$BP_ADDR" --sec 2 --username wifiprov --password abcd1234 \
    --ssid "$SSID" --passphrase "$PASS"
lab_check second_session test "$(grep -c '"event":"session"' "$LAB_OUT/device0.jsonl")" -ge 2
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_right_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_passwords bash -c "! grep -rqF -e '$PASS' -e '$WRONG' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log '$LAB_OUT'/client-wrong.log"
lab_finish
