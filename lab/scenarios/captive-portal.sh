#!/bin/bash
# description: Captive portal: the device's AP hands out DHCP option 114 (RFC 8910) and wildcard DNS, OS probes redirect, the RFC 8908 API says captive, headless Chromium on the phone fills the page's form, the device joins the home AP, the page says connected
# timeout: 600
# exclusive: yes
# smp: 2
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/softap.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=6

lab_check radios lab_radios 4 || lab_fail "no radios"
lab_check monitor lab_monitor wlan3 "$CH" capture.pcap || lab_fail "monitor"
lab_check ap lab_ap wlan0 "$CH" "$SSID" "$PASS" || lab_fail "home AP did not come up"
# Chromium under TCG on a loaded host can take minutes to show the page: the device waits as long
# as the scenario may run.
SA_DEVICE_TIMEOUT=520 sa_device device0 wlan2 --sec 2 --username wifiprov --password abcd1234 --portal
lab_check device_serving sa_wait_serving device0 60 || lab_fail "the device did not serve"
# The phone's DHCP client asks for option 114 and records what it got.
cat >"$LAB_STATE/udhcpc-record" <<SCRIPT
#!/bin/sh
env | grep -E '^(opt114|ip|router|dns)=' >"$LAB_OUT/phone-dhcp.env"
exec "$LAB_ROOT/contrib/udhcpc-script" "\$@"
SCRIPT
chmod +x "$LAB_STATE/udhcpc-record"
SA_UDHCPC_SCRIPT="$LAB_STATE/udhcpc-record" SA_UDHCPC_EXTRA="-O 114" \
    lab_check phone_joined_device_ap sa_phone_join wlan1 "$SA_AP_SSID" "$SA_AP_CHANNEL" || lab_fail "phone not on the device's AP"
lab_report_str phone_dhcp "$(tr '\n' ' ' <"$LAB_OUT/phone-dhcp.env")"
# RFC 8910: option 114 carries the captive-portal API URI (udhcpc gives unknown options in hex).
lab_check dhcp_option_114 bash -c "grep -q '^opt114=$(lab_hex 'http://192.168.4.1/api/captive')$' '$LAB_OUT/phone-dhcp.env'"
# Wildcard DNS: any name is the device.
lab_check wildcard_dns bash -c "ip netns exec lab-wlan1 busybox nslookup connectivitycheck.gstatic.com 192.168.4.1 | grep -q 'Address.*192.168.4.1'"
# OS probes: Android's generate_204 is redirected to the portal.
lab_check android_probe_redirects bash -c "ip netns exec lab-wlan1 python3 -c '
import http.client; c=http.client.HTTPConnection(\"192.168.4.1\", 80, timeout=10)
c.request(\"GET\", \"/generate_204\", headers={\"Host\": \"connectivitycheck.gstatic.com\"}); r=c.getresponse()
exit(0 if r.status == 302 and r.getheader(\"Location\") == \"http://192.168.4.1/\" else 1)'"
# RFC 8908 API: captive before provisioning.
lab_check captive_api_says_captive bash -c "ip netns exec lab-wlan1 python3 -c '
import json, urllib.request; r=urllib.request.urlopen(\"http://192.168.4.1/api/captive\", timeout=10)
d=json.load(r); exit(0 if r.headers[\"Content-Type\"].startswith(\"application/captive+json\") and d[\"captive\"] is True else 1)'"
# The user: headless Chromium fills the form.
T0=$(date +%s%3N)
echo "$T0" >"$LAB_STATE/browser.start_ms"
lab_check browser_saw_connected bash -c "ip netns exec lab-wlan1 python3 '$LAB_LIBDIR/portal_browser.py' --url http://192.168.4.1/ \
    --ssid '$SSID' --password '$PASS' --timeout 450 --screenshot '$LAB_OUT/portal.png' --driver-log '$LAB_OUT/chromedriver.log' >'$LAB_OUT/browser.json' 2>'$LAB_OUT/browser.log'"
date +%s%3N >"$LAB_STATE/browser.end_ms"
lab_report browser "$(cat "$LAB_OUT/browser.json" 2>/dev/null || echo null)"
lab_check device_got_credentials_via_portal grep -q '"via":"portal"' "$LAB_OUT/device0.jsonl"
lab_check device_provisioned lab_wait 40 "device0 provisioned" grep -q '"event":"provisioned"' "$LAB_OUT/device0.jsonl"
sa_report_times device0 browser
lab_check device_associated_home bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$(lab_mac wlan2)'"
lab_check stored_credentials bash -c "grep -q $(lab_hex "$PASS") '$LAB_STATE/device0/credentials.json'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log"
lab_finish
