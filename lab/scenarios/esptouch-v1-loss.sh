#!/bin/bash
# description: ESP-TOUCH v1 with 20 % of the phone's packets dropped (tc netem): still provisioned
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
lab_check radios lab_radios 4 || lab_fail "no radios"
lab_check monitor lab_monitor wlan3 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "AP did not come up"
lab_check phone lab_phone wlan1 "$SSID" "$PASS" || lab_fail "phone did not associate"
lab_check loss lab_loss wlan1 20 || lab_fail "netem"
DEVICE_MAC=$(lab_mac wlan2)
et_device device0 wlan2
sleep 1
et_send phone wlan1 "$SSID" "$PASS" 1 90
lab_report_str qdisc "$(tc -s qdisc show dev wlan1 | tr '\n' ' ')"
lab_check phone_got_ack et_acked phone "$DEVICE_MAC"
et_wait_event device0 provisioned 10
et_report_device device0 phone
lab_check stored_credentials et_stored device0 "$SSID" "$PASS"
lab_finish
