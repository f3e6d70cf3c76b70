#!/bin/bash
# description: fault: two phones on two APs (same channel) send different ESP-TOUCH v1 credentials at once; the device takes exactly one set — the one it reports, stores, joins (wpa_supplicant BSSID, that AP's station list, its subnet) and acknowledges are the same — and only that phone lists it
# timeout: 300
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"
. "$LAB_LIBDIR/faults.sh"

CH=6
SSID_A='HomeNet ☕'
PASS_A='correct horse battery'
SSID_B='CafeNet'
PASS_B='espresso macchiato 42 bar'   # another length: another ack token

lab_check radios lab_radios 6 || lab_fail "no radios"
lab_check monitor lab_monitor wlan3 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap_a lab_ap wlan0 "$CH" "$SSID_A" "$PASS_A" || lab_fail "AP A"
BSSID_A=$(lab_mac wlan0)
LAB_SUBNET=192.168.78 lab_check ap_b lab_ap wlan4 "$CH" "$SSID_B" "$PASS_B" || lab_fail "AP B"
BSSID_B=$(lab_mac wlan4)
lab_check phone_a lab_phone wlan1 "$SSID_A" "$PASS_A" 192.168.77.2 || lab_fail "phone A"
lab_check phone_b lab_phone wlan5 "$SSID_B" "$PASS_B" 192.168.78.2 || lab_fail "phone B"
lab_report_str bssid_a "$BSSID_A"
lab_report_str bssid_b "$BSSID_B"

et_device device0 wlan2
DEV=$LAB_OUT/device0.jsonl
DEV_PID=$LAB_LAST_PID
DEV_MAC=$(lab_mac wlan2)
sleep 1
send() { # NAME IFACE SSID PASS
    _lab_ns "$2"
    date +%s%3N >"$LAB_STATE/$1.start_ms"
    "${LAB_NS_EXEC[@]}" "$WIFIPROV" esptouch send --iface "$2" --ssid "$3" --password "$4" \
        --devices 1 --timeout 90 --json >"$LAB_OUT/$1.json" 2>"$LAB_OUT/$1.log" &
}
send phone-a wlan1 "$SSID_A" "$PASS_A"; PA=$!
send phone-b wlan5 "$SSID_B" "$PASS_B"; PB=$!
echo "phone-a $PA" >>"$LAB_STATE/pids"
echo "phone-b $PB" >>"$LAB_STATE/pids"

lab_check device_provisioned et_wait_event device0 provisioned 120 || lab_fail "the device was not provisioned"
lab_check daemon_exited fault_exited "$DEV_PID" 20
lab_check daemon_exit_status_0 test "$FAULT_STATUS" = 0
# Which phone did it take? The credentials event names the SSID and the phone's address.
WIN_SSID_HEX=$(fault_event_field "$DEV" credentials ssid_hex | tr -d '"')
if [[ $WIN_SSID_HEX == "$(lab_hex "$SSID_A")" ]]; then
    W=a L=b W_IF=wlan1 L_IF=wlan5 W_SSID=$SSID_A W_PASS=$PASS_A W_AP=wlan0 L_AP=wlan4 W_BSSID=$BSSID_A W_NET=192.168.77 W_PID=$PA L_PID=$PB
else
    W=b L=a W_IF=wlan5 L_IF=wlan1 W_SSID=$SSID_B W_PASS=$PASS_B W_AP=wlan4 L_AP=wlan0 W_BSSID=$BSSID_B W_NET=192.168.78 W_PID=$PB L_PID=$PA
fi
lab_report_str taken_from "phone-$W"
lab_check credentials_are_one_of_the_two bash -c "[[ '$WIN_SSID_HEX' == '$(lab_hex "$SSID_A")' || '$WIN_SSID_HEX' == '$(lab_hex "$SSID_B")' ]]"
lab_check exactly_one_credentials_event test "$(fault_event_count "$DEV" credentials)" = 1
lab_check no_failed_join test "$(fault_event_count "$DEV" failed)" = 0
# Reported: the phone address and BSSID in the event are the winner's; the last lock was on its phone.
lab_check reported_phone_ip test "$(fault_event_field "$DEV" credentials phone_ip)" = "\"$W_NET.2\""
lab_check reported_bssid test "$(fault_event_field "$DEV" credentials bssid)" = "\"$W_BSSID\""
lab_check locked_on_that_phone test "$(fault_event_field "$DEV" locked sender -1)" = "\"$(lab_mac "$W_IF")\""
# Stored: exactly the winner's SSID and passphrase.
lab_check stored_the_same et_stored device0 "$W_SSID" "$W_PASS"
# Joined: the device's supplicant is on the winner's BSSID, that AP lists it, the other does not,
# and its address is in the winner's subnet.
lab_report_str device_wpa_bssid "$(fault_wpa_field wlan2 bssid "$LAB_STATE/device0-wpa")"
lab_check joined_the_same_bssid test "$(fault_wpa_field wlan2 bssid "$LAB_STATE/device0-wpa")" = "$W_BSSID"
lab_check joined_the_same_ssid test "$(printf '%b' "$(fault_wpa_field wlan2 ssid "$LAB_STATE/device0-wpa")")" = "$W_SSID"
lab_check winner_ap_lists_device bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i '$W_AP' all_sta | grep -qi '$DEV_MAC'"
lab_check other_ap_does_not bash -c "! hostapd_cli -p '$LAB_STATE/hostapd' -i '$L_AP' all_sta | grep -qi '$DEV_MAC'"
lab_check address_in_winner_subnet bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $W_NET\.'"
lab_check ack_to_winner_phone test "$(fault_event_field "$DEV" ack_sent phone)" = "\"$W_NET.2\""
# Acknowledged: the winner's phone lists the device (and stops by itself); the other never does.
lab_check winner_phone_finished fault_exited "$W_PID" 20
lab_check winner_phone_lists_device et_acked "phone-$W" "$DEV_MAC"
sleep 3
kill -INT "$L_PID" 2>/dev/null
fault_exited "$L_PID" 10 || kill -KILL "$L_PID" 2>/dev/null
lab_check other_phone_never_acked bash -c "! grep -qi '$DEV_MAC' '$LAB_OUT/phone-$L.json'"
et_report_device device0 "phone-$W"
lab_finish
