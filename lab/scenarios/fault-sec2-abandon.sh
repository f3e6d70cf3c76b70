#!/bin/bash
# description: fault: security 2 handshakes abandoned after step 0 — one client closes its connection, another is taken off the air with its keep-alive connection open (no FIN ever reaches the device) — then a second phone provisions the device with `wifiprov softap --sec 2`
# timeout: 360
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/softap.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
USER=wifiprov
SRP_PASS='abandon-me-not'

lab_check radios lab_radios 5 || lab_fail "no radios"   # wlan0 home AP, wlan1 phone A, wlan2 device, wlan4 phone B (not wlan3: the device AP's address is wlan2's with bit 0 flipped, which is wlan3's in the lab)
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
sa_device device0 wlan2 --sec 2 --username "$USER" --password "$SRP_PASS"
lab_check device_serving sa_wait_serving device0 60 || lab_fail "the device did not serve"
lab_check phone_a_joined sa_phone_join wlan1 "$SA_AP_SSID" "$SA_AP_CHANNEL" || lab_fail "phone A not on the device's AP"

# 1. Phone A: step 0 of a sec2 handshake (the device answers with B and the salt), then it closes.
lab_in wlan1 timeout 60 python3 "$LAB_LIBDIR/sec2_step0.py" 192.168.4.1 80 "$USER" exit \
    >"$LAB_OUT/abandon-close.json" 2>"$LAB_OUT/abandon-close.log"
lab_check step0_answered_then_closed python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(not (r["session_status"] == 200 and r["looks_like_resp0"]))' "$LAB_OUT/abandon-close.json"

# 2. Phone A again: step 0, keeps the connection open, and vanishes: its radio goes down first, so
# neither FIN nor RST reaches the device; then the process is killed.
_lab_ns wlan1
lab_bg abandon-hold "${LAB_NS_EXEC[@]}" timeout 200 python3 "$LAB_LIBDIR/sec2_step0.py" 192.168.4.1 80 "$USER" hold
HOLD=$LAB_LAST_PID
lab_check step0_answered_and_held lab_wait 60 "held step 0 answered" grep -q '"looks_like_resp0": true' "$LAB_OUT/abandon-hold.log"
lab_in wlan1 ip link set wlan1 down
kill -KILL "$HOLD" 2>/dev/null
lab_check phone_a_gone lab_wait 10 "phone A's process gone" bash -c "! kill -0 $HOLD 2>/dev/null"

# 3. Phone B joins and provisions the device: the half-open session must not block it.
lab_check phone_b_joined sa_phone_join wlan4 "$SA_AP_SSID" "$SA_AP_CHANNEL" || lab_fail "phone B not on the device's AP"
lab_check client_ok sa_provision client wlan4 --sec 2 --username "$USER" --password "$SRP_PASS" \
    --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check device_provisioned lab_wait 30 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_has_home_address bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $LAB_SUBNET\.'"
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json'"
lab_no_secrets "$PASS" "$SRP_PASS"
lab_finish
