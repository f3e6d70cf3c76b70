#!/bin/bash
# description: ESP-TOUCH v1 with two noise stations broadcasting random-length traffic on the channel
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
lab_check radios lab_radios 6 || lab_fail "no radios"   # + wlan4, wlan5 noise stations
lab_check monitor lab_monitor wlan3 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "AP did not come up"
lab_check phone lab_phone wlan1 "$SSID" "$PASS" || lab_fail "phone did not associate"
lab_check noise1 lab_noise wlan4 "$SSID" "$PASS" "$LAB_SUBNET.3" 90 25 || lab_fail "noise station 1"
lab_check noise2 lab_noise wlan5 "$SSID" "$PASS" "$LAB_SUBNET.4" 90 25 || lab_fail "noise station 2"
DEVICE_MAC=$(lab_mac wlan2)
et_device device0 wlan2
sleep 1
et_send phone wlan1 "$SSID" "$PASS" 1 90
lab_check phone_got_ack et_acked phone "$DEVICE_MAC"
et_wait_event device0 provisioned 10
et_report_device device0 phone
lab_check stored_credentials et_stored device0 "$SSID" "$PASS"
lab_finish
