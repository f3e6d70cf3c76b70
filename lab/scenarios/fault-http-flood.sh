#!/bin/bash
# description: fault: a flood of bogus HTTP (slowloris, silent and idle connections, garbage, huge Content-Length, random cookies, bogus sec2 session starts, configs without a session) from one station on the device's AP while a second phone provisions it with `wifiprov softap --sec 2`; the real client succeeds and the device answers throughout
# timeout: 400
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/softap.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6
USER=wifiprov
SRP_PASS='flood-proof-pass'
FLOOD_S=${FAULT_FLOOD_S:-90}

lab_check radios lab_radios 5 || lab_fail "no radios"   # wlan0 home AP, wlan1 flooder, wlan2 device, wlan4 phone (not wlan3: the device AP's address is wlan2's with bit 0 flipped, which is wlan3's in the lab)
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
sa_device device0 wlan2 --sec 2 --username "$USER" --password "$SRP_PASS"
lab_check device_serving sa_wait_serving device0 60 || lab_fail "the device did not serve"
lab_check flooder_joined sa_phone_join wlan1 "$SA_AP_SSID" "$SA_AP_CHANNEL" || lab_fail "flooder not on the device's AP"
_lab_ns wlan1
lab_bg flood "${LAB_NS_EXEC[@]}" timeout $((FLOOD_S + 60)) python3 "$LAB_LIBDIR/http_flood.py" 192.168.4.1 80 "$FLOOD_S" 3
FLOOD=$LAB_LAST_PID
FLOOD_T0=$(date +%s)
sleep 5

# The real phone joins and provisions while the flood goes on.
lab_check phone_joined sa_phone_join wlan4 "$SA_AP_SSID" "$SA_AP_CHANNEL" || lab_fail "phone not on the device's AP"
PHONE_IP=$(lab_in wlan4 ip -4 -o addr show dev wlan4 | awk '{print $4}' | cut -d/ -f1)
lab_check client_ok sa_provision client wlan4 --sec 2 --username "$USER" --password "$SRP_PASS" \
    --ssid "$SSID" --passphrase "$PASS"
CLIENT_END=$(date +%s)
lab_report client_done_s_into_flood $((CLIENT_END - FLOOD_T0))
lab_check provisioned_during_flood test $((CLIENT_END - FLOOD_T0)) -lt "$FLOOD_S"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check device_provisioned lab_wait 30 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client

# The flood ran its course; the device answered it (bounded, no hang) — its summary line.
lab_wait $((FLOOD_S + 70)) "flood done" bash -c "! kill -0 $FLOOD 2>/dev/null"
lab_check flood_summary grep -q '"requests"' "$LAB_OUT/flood.log"
python3 - "$LAB_OUT/flood.log" >"$LAB_STATE/flood.kv" <<'PY'
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("{")][-1]
s = json.loads(line)
print(s["connections"], s["requests"], sum(v for k, v in s["answers"].items()), s.get("max_open", 0),
      s["closed_without_answer"] + s["reset"])
PY
read -r CONNS REQS ANSWERS MAXOPEN REFUSED <"$LAB_STATE/flood.kv"
lab_report flood_connections "${CONNS:-0}"
lab_report flood_requests "${REQS:-0}"
lab_report flood_answers "${ANSWERS:-0}"
lab_report flood_closed_or_reset "${REFUSED:-0}"
lab_report flood_max_open "${MAXOPEN:-0}"
lab_check flood_was_heavy test "${REQS:-0}" -ge 200
# Most of the flood is refused (6 connections per address) or closed unanswered (protocomm's
# way to reject); what gets through is answered with a status.
lab_check device_answered_the_flood test "${ANSWERS:-0}" -ge 10
# Only the real phone ever got a session established.
lab_report_str phone_ip "$PHONE_IP"
lab_check only_the_phone_established python3 -c 'import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
est = [e for e in ev if e.get("event") == "established"]
sys.exit(not (len(est) == 1 and est[0].get("peer", "").startswith(sys.argv[2] + ":")))' "$LAB_OUT/device0.jsonl" "$PHONE_IP"

lab_check device_has_home_address bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $LAB_SUBNET\.'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json'"
lab_no_secrets "$PASS" "$SRP_PASS"
lab_finish
