#!/bin/bash
# description: ESP-TOUCH v2 with reserved data: it reaches the device, is stored beside the credentials and is handed to the hook (WIFIPROV_EVENT_JSON of the credentials event)
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/esptouch_v2.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
RESERVED='bind:device-42/token=Zq8'
et_setup 4 6 "$SSID" "$PASS"
HOOK_OUT="$LAB_OUT/device0-hook.jsonl"
et_device device0 wlan2 --methods esptouch-v2 \
    --hook "printf '%s\n' \"\$WIFIPROV_EVENT_JSON\" >>'$HOOK_OUT'"
sleep 1
v2_send phone wlan1 "$SSID" "$PASS" 120 --reserved "$RESERVED"
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
HEX=$(lab_hex "$RESERVED")
lab_check reserved_in_event grep -q "\"event\":\"credentials\".*\"reserved_hex\":\"$HEX\"" "$LAB_OUT/device0.jsonl"
lab_check reserved_stored v2_stored_reserved device0 "$HEX"
lab_check reserved_to_hook lab_wait 10 "hook output" grep -q "\"reserved_hex\":\"$HEX\"" "$HOOK_OUT"
lab_finish
