#!/bin/bash
# description: lab self-test of impairments: AP on ch 13, 20 % netem loss on the phone, 2 noise stations
#
# Exercises only lab components (no wifiprov): 5 hwsim radios — wlan0 AP (channel 13, needs the DE
# regulatory domain), wlan1 phone with 20 % tc-netem loss, wlan2 + wlan3 noise stations, wlan4 monitor.
# The phone sends 100 broadcasts with distinct payload lengths (200..299); the capture must show roughly
# 80 % of them from the phone and noise frames from both noise stations.
set -u
. "$LAB_LIB"

SSID='Lab "quoted" \ ssid'
PASS='pass with spaces & ünïcödé'
CH=13
LENS=$(seq -s, 200 299)

lab_report channel "$CH"
lab_check radios lab_radios 5 || lab_fail "no radios"
lab_report_str regdomain "$(iw reg get | sed -n 's/^country \([A-Z0-9]*\).*/\1/p' | head -n1)"
lab_check monitor lab_monitor wlan4 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "AP did not come up on channel $CH"
lab_report ap_up_uptime_s "$LAB_AP_UP_S"
lab_check phone lab_phone wlan1 "$SSID" "$PASS" || lab_fail "phone did not associate"
lab_report phone_assoc_ms "$LAB_PHONE_ASSOC_MS"
lab_check noise1 lab_noise wlan2 "$SSID" "$PASS" 192.168.77.3 30 20 || lab_fail "noise station 1"
lab_check noise2 lab_noise wlan3 "$SSID" "$PASS" 192.168.77.4 30 20 || lab_fail "noise station 2"
lab_check loss lab_loss wlan1 20 || lab_fail "netem"
lab_check ap_stations test "$(lab_ap_stations | wc -l)" -eq 3

# shellcheck disable=SC2046
lab_check send lab_send_bcast wlan1 7001 $(seq 200 299)
sleep 1
lab_report_str netem "$(lab_in wlan1 tc -s qdisc show dev wlan1 | tr -s ' \n' ' ')"
# Station-to-station unicast relayed by the AP (separate namespaces, so it really crosses the air).
lab_check noise_ping_phone lab_in wlan2 busybox ping -q -c 3 -W 2 192.168.77.2
lab_monitor_stop wlan4
frames=$(lab_frames capture.pcap "$LAB_PHONE_MAC" "$LENS")
lab_report capture "$frames"
noise1=$(lab_frames capture.pcap "$(lab_mac wlan2)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sta_data_frames"])')
noise2=$(lab_frames capture.pcap "$(lab_mac wlan3)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sta_data_frames"])')
lab_report noise_frames "[$noise1, $noise2]"
seen=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["to_ds_matched"])' "$frames")
lab_report phone_delivered_pct "$seen"
# 100 datagrams at 20 % loss: 80 expected; binomial sd = 4, so 60..95 is a very safe band.
lab_check loss_applied test "$seen" -le 95
lab_check loss_not_total test "$seen" -ge 60
lab_check noise_seen test "$noise1" -ge 10 -a "$noise2" -ge 10
lab_finish
