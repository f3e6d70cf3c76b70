#!/bin/bash
# description: SoftAP sec2: the device raises its AP (AP+STA), the phone joins it, `wifiprov softap` provisions it, the device joins the home AP, the client sees CONNECTED
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/secrets.sh"
. "$LAB_LIBDIR/softap.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=${SA_CHANNEL:-6}

lab_check radios lab_radios 4 || lab_fail "no radios"
lab_check monitor lab_monitor wlan3 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
sa_device device0 wlan2 --sec 2 --username wifiprov --password abcd1234 ${SA_DEVICE_ARGS:-}
lab_check device_serving sa_wait_serving device0 60 || lab_fail "the device did not serve"
lab_check phone_joined_device_ap sa_phone_join wlan1 "$SA_AP_SSID" "$SA_AP_CHANNEL" || lab_fail "phone not on the device's AP"
lab_check client_ok sa_provision client wlan1 --sec 2 --username wifiprov --password abcd1234 \
    --ssid "$SSID" --passphrase "$PASS"
lab_check client_saw_connected test "$(sa_result client 'r["station"]["state"]')" = connected
lab_check client_got_device_ip sa_client_ip_in client "$LAB_SUBNET."
lab_check device_provisioned lab_wait 15 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 client
lab_check device_has_home_address bash -c "ip -4 addr show dev wlan2 | grep -q 'inet $LAB_SUBNET\.'"
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json' && [ \$(stat -c %a '$LAB_STATE/device0/credentials.json') = 600 ]"
lab_check ap_interface_removed bash -c "! ip link show wlan2ap >/dev/null 2>&1"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/client.log"
lab_no_secrets "$PASS" abcd1234
lab_finish
