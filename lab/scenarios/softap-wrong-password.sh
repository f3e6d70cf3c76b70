#!/bin/bash
# description: SoftAP: a wrong passphrase gives the client AuthError, the device stays provisionable (same AP, no restart) and a second attempt succeeds; the device's AP uses a WPA2 service key
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/softap.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
WRONG='incorrect horse battery'
KEY='service key 42'
CH=6

lab_check radios lab_radios 4 || lab_fail "no radios"
lab_check monitor lab_monitor wlan3 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
sa_device device0 wlan2 --sec 2 --username wifiprov --password abcd1234 --service-key "$KEY" --connect-timeout 15
lab_check device_serving sa_wait_serving device0 60 || lab_fail "the device did not serve"
AP_PID=$(pgrep -f "hostapd .*hostapd-wlan2ap.conf" | head -n1)
lab_check phone_joined_device_ap sa_phone_join wlan1 "$SA_AP_SSID" "$SA_AP_CHANNEL" "$KEY" || lab_fail "phone not on the device's AP"

# First attempt: the wrong passphrase. The client must exit non-zero and name the reason.
sa_provision client-wrong wlan1 --sec 2 --username wifiprov --password abcd1234 --ssid "$SSID" --passphrase "$WRONG"
lab_check client_failed test "$(sa_result client-wrong 'r["result"]')" = error
lab_check client_saw_auth_error test "$(sa_result client-wrong 'r["error"]')" = connection_failed
lab_check reason_is_auth_error bash -c "grep -q AuthError '$LAB_OUT/client-wrong.json'"
lab_check device_reported_failure grep -q '"event":"failed"' "$LAB_OUT/device0.jsonl"
lab_check device_not_provisioned bash -c "! grep -q '\"event\":\"provisioned\"' '$LAB_OUT/device0.jsonl'"
# Still provisionable without a restart: the same hostapd, the phone still on it, the same device process.
lab_check same_ap_process test "$(pgrep -f "hostapd .*hostapd-wlan2ap.conf" | head -n1)" = "$AP_PID"
lab_check phone_still_on_device_ap bash -c "wpa_cli -p '$LAB_STATE/wpa_supplicant' -i wlan1 status 2>/dev/null | grep -qx wpa_state=COMPLETED || ip netns exec lab-wlan1 wpa_cli -p '$LAB_STATE/wpa_supplicant' -i wlan1 status | grep -qx wpa_state=COMPLETED"

# Second attempt: the right one.
lab_check client_ok sa_provision client wlan1 --sec 2 --username wifiprov --password abcd1234 \
    --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check client_got_device_ip sa_client_ip_in client "$LAB_SUBNET."
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_right_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_passwords bash -c "! grep -rqF -e '$PASS' -e '$WRONG' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log '$LAB_OUT'/client-wrong.log"
lab_finish
