#!/bin/bash
# description: ESP-TOUCH v1 with the NetworkManager backend: NetworkManager (D-Bus) joins and does DHCP; the daemon unmanages the radio while listening
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/esptouch.sh"

SSID='HomeNet ☕'
PASS='correct horse battery'
CH=${ET_CHANNEL:-6}

et_setup 4 "$CH" "$SSID" "$PASS"   # wlan0 AP, wlan1 phone, wlan2 device, wlan3 monitor
DEVICE_MAC=$(lab_mac wlan2)
lab_report_str device_mac "$DEVICE_MAC"
lab_check networkmanager lab_networkmanager wlan2 || lab_fail "NetworkManager did not come up"
# NetworkManager manages the device's radio only: the monitor stays unmanaged.
lab_check nm_leaves_other_radios lab_nm_leaves wlan3
# The NetworkManager backend ignores the DHCP command et_device passes: NetworkManager's own client
# provides the address (no udhcpc runs; checked below).
et_device device0 wlan2 --backend networkmanager
lab_check listening et_wait_event device0 listening 20
# While the daemon listens, NetworkManager has let go of the radio (it would fight monitor mode).
lab_check nm_unmanaged_while_listening lab_nm_is wlan2 unmanaged
et_send phone wlan1 "$SSID" "$PASS" 1 90
et_expect_provisioned device0 wlan2 phone "$SSID" "$PASS"
lab_report_str nm_devices "$(nmcli -t -f DEVICE,STATE,CONNECTION device | tr '\n' ' ')"
lab_check nm_connected lab_nm_is wlan2 connected
lab_check device_has_address et_ip_in_subnet wlan2
lab_check no_udhcpc bash -c '! pgrep -f "^busybox udhcpc -i wlan2"'
lab_check device_associated bash -c "hostapd_cli -p '$LAB_STATE/hostapd' -i wlan0 all_sta | grep -qi '$DEVICE_MAC'"
lab_check never_logged_password bash -c "! grep -rqF '$PASS' '$LAB_OUT'/device0.jsonl '$LAB_OUT'/device0.log '$LAB_OUT'/NetworkManager.log '$LAB_OUT'/nm-wpa.log"
lab_finish
