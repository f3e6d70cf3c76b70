#!/bin/bash
# description: ESP-TOUCH v1, NetworkManager backend: a wrong passphrase is reported (NetworkManager's reason), the connection removed, the radio unmanaged again; then the right one
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
et_setup 4 6 "$SSID" "$PASS"
lab_check networkmanager lab_networkmanager wlan2 || lab_fail "NetworkManager did not come up"
et_device device0 wlan2 --backend networkmanager --connect-timeout 20
lab_check listening et_wait_event device0 listening 20
et_wrong_then_right device0 wlan2 wlan1 "$SSID" "$PASS" 'incorrect horse battery'
# The failed connection was deleted: NetworkManager keeps exactly one, the working one.
lab_report_str nm_connections "$(nmcli -t -f NAME,DEVICE connection | tr '\n' ' ')"
lab_check one_connection_left bash -c '[ "$(nmcli -t -f NAME connection | grep -c .)" = 1 ]'
lab_check nm_connected lab_nm_is wlan2 connected
lab_finish
