#!/bin/bash
# description: ESP-TOUCH v1 with two noise stations broadcasting random-length traffic on the channel
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
et_setup 6 6 "$SSID" "$PASS"   # + wlan4, wlan5 noise stations
lab_check noise1 lab_noise wlan4 "$SSID" "$PASS" "$LAB_SUBNET.3" 90 25 || lab_fail "noise station 1"
lab_check noise2 lab_noise wlan5 "$SSID" "$PASS" "$LAB_SUBNET.4" 90 25 || lab_fail "noise station 2"
et_device device0 wlan2
sleep 1
et_send phone wlan1 "$SSID" "$PASS" 1 90
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_finish
