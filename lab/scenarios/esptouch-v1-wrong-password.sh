#!/bin/bash
# description: ESP-TOUCH v1: the phone first sends a wrong passphrase (device reports it, listens again), then the right one
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
WRONG='incorrect horse battery'
et_setup 4 6 "$SSID" "$PASS"
DEVICE_MAC=$(lab_mac wlan2)
et_device device0 wlan2 --connect-timeout 20
sleep 1
# Wrong passphrase: no ack expected; stop sending once the device reported the failure.
_lab_ns wlan1   # `ip netns exec` execs, so $! is the sender itself and SIGINT reaches it
"${LAB_NS_EXEC[@]}" "$WIFIPROV" esptouch send --iface wlan1 --ssid "$SSID" --password "$WRONG" --devices 1 --timeout 60 --json \
    >"$LAB_OUT/phone-wrong.json" 2>"$LAB_OUT/phone-wrong.log" &
WRONG_PID=$!
lab_check failure_reported et_wait_event device0 failed 60
kill -INT "$WRONG_PID" 2>/dev/null
wait "$WRONG_PID"
lab_report_str failure "$(grep '"event":"failed"' "$LAB_OUT/device0.jsonl" | head -n1)"
lab_check reason_is_wrong_password grep -q 'wrong password' "$LAB_OUT/device0.jsonl"
lab_check no_ack_for_wrong bash -c "! grep -q '$DEVICE_MAC' '$LAB_OUT/phone-wrong.json'"
# The device listens again (a second "listening" event) and is not in monitor mode forever.
lab_check listening_again bash -c "[ \$(grep -c '\"event\":\"listening\"' '$LAB_OUT/device0.jsonl') -ge 2 ]"
et_send phone wlan1 "$SSID" "$PASS" 1 90
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_finish
