#!/bin/bash
# description: fault: the ESP-TOUCH v1 phone leaves the moment the device has its credentials (sender killed, disassociated, interface down) — the device still joins, stores the credentials, sends its ack rounds to nobody and its daemon exits cleanly
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/faults.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'

et_setup 4 6 "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 device, wlan3 monitor
et_device device0 wlan2
DEV=$LAB_OUT/device0.jsonl
DEV_PID=$LAB_LAST_PID
PHONE_MAC=$(lab_mac wlan1)
sleep 1
_lab_ns wlan1
date +%s%3N >"$LAB_STATE/phone.start_ms"
"${LAB_NS_EXEC[@]}" "$WIFIPROV" esptouch send --iface wlan1 --ssid "$SSID" --password "$PASS" \
    --devices 1 --timeout 90 --json >"$LAB_OUT/phone.json" 2>"$LAB_OUT/phone.log" &
PHONE=$!
echo "phone-sender $PHONE" >>"$LAB_STATE/pids"
# The fault: at the credentials event the phone is gone — its sender is killed (no goodbye), its
# station disassociates and the interface goes down, so nothing can reach it any more.
fault_on_event "$DEV" credentials 120 bash -c '
kill -KILL "$1"
ip netns exec lab-wlan1 wpa_cli -p "$2" -i wlan1 disconnect
ip netns exec lab-wlan1 ip link set wlan1 down' _ "$PHONE" "$LAB_STATE/wpa_supplicant"
lab_check credentials_received et_wait_event device0 credentials 90 || lab_fail "no credentials"
lab_check phone_left_on_credentials fault_watch_wait credentials 5
lab_report fault_delay_ms "$(fault_watch_delay_ms credentials)"
lab_check phone_not_associated lab_wait 10 "phone gone from the AP" bash -c "! hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$PHONE_MAC'"
lab_check phone_sender_dead fault_exited "$PHONE" 5

# The device joins anyway, acknowledges (to an address nobody answers) and finishes.
lab_check device_joined et_wait_event device0 joined 60
lab_check phone_left_before_join test "$(cut -d' ' -f1 "$LAB_STATE/fault-credentials.ms")" -lt "$(fault_event_ms "$DEV" joined)"
lab_check ack_rounds_finished et_wait_event device0 ack_sent 20
lab_check device_provisioned et_wait_event device0 provisioned 10
lab_check daemon_exited fault_exited "$DEV_PID" 20
lab_report_str daemon_status "$FAULT_STATUS"
lab_check daemon_exit_status_0 test "$FAULT_STATUS" = 0
JOINED_MS=$(fault_event_ms "$DEV" joined)
ACK_MS=$(fault_event_ms "$DEV" ack_sent)
lab_report ack_after_joined_ms "$((ACK_MS - JOINED_MS))"
lab_check ack_not_stuck test "$((ACK_MS - JOINED_MS))" -le 15000
lab_check ack_to_the_phone_ip test "$(fault_event_field "$DEV" ack_sent phone)" = "\"$LAB_SUBNET.2\""
et_report_device device0 phone
lab_check stored et_stored device0 "$SSID" "$PASS"
lab_check device_has_home_address et_ip_in_subnet wlan2
lab_check device_associated bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check device_supplicant_completed bash -c "wpa_cli -p '$LAB_STATE/device0-wpa' -i wlan2 status | grep -qx wpa_state=COMPLETED"
lab_check no_failure bash -c "! grep -q '\"event\":\"failed\"' '$DEV'"
lab_finish
