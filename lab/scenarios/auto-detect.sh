#!/bin/bash
# description: One daemon with --methods esptouch-v1,airkiss (both decoders on the same frames): provisioned first by AirKiss, then, listening again, by ESP-TOUCH v1
# timeout: 300
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/airkiss.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'

et_setup 4 6 "$SSID" "$PASS"
et_device device0 wlan2 --methods esptouch-v1,airkiss --keep-running
sleep 1
ak_send phone-airkiss wlan1 "$SSID" "$PASS" 90
lab_check airkiss_credentials grep -q '"event":"credentials".*"method":"airkiss"' "$LAB_OUT/device0.jsonl"
lab_check first_join lab_wait 30 "first join" grep -q '"event":"joined"' "$LAB_OUT/device0.jsonl"
DEVICE_IP=$(ip -4 -o addr show dev wlan2 | awk '{print $4}' | cut -d/ -f1 | head -n1)
lab_check airkiss_acked ak_acked phone-airkiss "$DEVICE_IP"
# The daemon listens again (monitor mode) after the first provisioning.
lab_check listening_again lab_wait 30 "listening again" \
    bash -c "[ \$(grep -c '\"event\":\"listening\"' '$LAB_OUT/device0.jsonl') -ge 2 ]"
et_send phone wlan1 "$SSID" "$PASS" 1 90
lab_check esptouch_credentials grep -q '"event":"credentials".*"method":"esptouch-v1"' "$LAB_OUT/device0.jsonl"
lab_check esptouch_acked et_acked phone "$(lab_mac wlan2)"
lab_check joined_twice bash -c "[ \$(grep -c '\"event\":\"joined\"' '$LAB_OUT/device0.jsonl') -ge 2 ]"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log"
lab_finish
