#!/bin/bash
# description: ESP-TOUCH v1 with 20 % of the phone's packets dropped (tc netem): still provisioned
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
et_setup 4 6 "$SSID" "$PASS"
lab_check loss lab_loss wlan1 20 || lab_fail "netem"
et_device device0 wlan2
sleep 1
et_send phone wlan1 "$SSID" "$PASS" 1 90
lab_report_str qdisc "$(lab_in wlan1 tc -s qdisc show dev wlan1 | tr '\n' ' ')"
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_finish
