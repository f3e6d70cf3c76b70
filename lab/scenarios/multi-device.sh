#!/bin/bash
# description: ESP-TOUCH v1: one send provisions 5 device daemons; the phone lists all 5 acks
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
N=5
ET_MONITOR=wlan2 et_setup $((N + 3)) "$CH" "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 monitor, wlan3.. devices
for ((i = 0; i < N; i++)); do
    # Each device gets its own network stack, as separate boards would have.
    lab_take "wlan$((i + 3))" || lab_fail "namespace for device $i"
    # Fixed channel: five daemons hopping by spawning `iw` ten times a second each starve the
    # emulated CPU; hopping itself is covered by esptouch-v1-hop.
    et_device "device$i" "wlan$((i + 3))" --channels "$CH"
done
sleep 1
et_send phone wlan1 "$SSID" "$PASS" "$N" 120
for ((i = 0; i < N; i++)); do
    et_expect_provisioned "device$i" "wlan$((i + 3))" phone "$SSID" "$PASS"
done
lab_report phone "$(cat "$LAB_OUT/phone.json")"
lab_finish
