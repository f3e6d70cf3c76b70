#!/bin/bash
# description: ESP-TOUCH v1: one send provisions 5 device daemons; the phone lists all 5 acks
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
N=5
lab_check radios lab_radios $((N + 3)) || lab_fail "no radios"   # wlan0 AP, wlan1 phone, wlan2 monitor, wlan3.. devices
lab_check monitor lab_monitor wlan2 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "AP did not come up"
lab_check phone lab_phone wlan1 "$SSID" "$PASS" || lab_fail "phone did not associate"
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
    lab_check "phone_got_ack_$i" et_acked phone "$(lab_mac "wlan$((i + 3))")"
    et_report_device "device$i" phone
    lab_check "stored_$i" et_stored "device$i" "$SSID" "$PASS"
done
lab_report phone "$(cat "$LAB_OUT/phone.json")"
lab_finish
