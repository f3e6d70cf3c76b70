#!/bin/bash
# description: ESP-TOUCH v1: the phone first sends a wrong passphrase (device reports it, listens again), then the right one
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
et_setup 4 6 "$SSID" "$PASS"
et_device device0 wlan2 --connect-timeout 20
sleep 1
et_wrong_then_right device0 wlan2 wlan1 "$SSID" "$PASS" 'incorrect horse battery'
lab_finish
