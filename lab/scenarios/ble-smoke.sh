#!/bin/bash
# description: BLE self-test: two btvirt LE controllers under one bluetoothd; hci0 advertises (2 instances) and serves a GATT service over D-Bus, hci1 discovers it, connects, resolves services, reads and writes (prepare/execute too)
# timeout: 360
#
# Exercises only lab components (no wifiprov). hci0 (the device) runs lab/lib/ble_gatt.py server: a GATT
# application with one 128-bit service / characteristic (read, write) and two LE advertisements
# (LAB-BLE with 16-bit UUID 0xfff0, LAB-BLE-1 with 0xfff1; the kernel rotates them). hci1 (the phone)
# runs ble_gatt.py client: LE discovery through org.bluez.Adapter1 on /org/bluez/hci1, Device1.Connect,
# ServicesResolved, then ReadValue / WriteValue on the characteristic. The HCI trace (btmon.log,
# ble.btsnoop) must show the connection, the MTU exchange and prepare + execute writes on the air.
set -u
. "$LAB_LIB"
. "$LAB_LIBDIR/ble.sh"

NAME=LAB-BLE
SVC=021a9004-0382-4aea-bff4-6b3f1c5adfb4
CHR=021aff51-0382-4aea-bff4-6b3f1c5adfb4

lab_report_str kernel "$(uname -r)"
lab_report_str bluez "$(bluetoothd -v)"
lab_check ble lab_ble || lab_fail "BLE did not come up"
lab_report ble_up_ms "$LAB_BLE_UP_MS"
lab_report btvirt_starts "$LAB_BLE_BTVIRT_STARTS"
lab_report_str dev_addr "$LAB_BLE_DEV_ADDR"
lab_report_str phone_addr "$LAB_BLE_PHONE_ADDR"
lab_report_str dev_addr_type "$(lab_ble_prop hci0 AddressType)"
lab_report_str phone_addr_type "$(lab_ble_prop hci1 AddressType)"
lab_report_str dev_settings "$(lab_btmgmt --index hci0 info | sed -n 's/^[[:space:]]*current settings: //p')"
le_only() { # HCI... — LE supported, BR/EDR not (btvirt -L)
    local h
    for h in "$@"; do lab_btmgmt --index "$h" info | grep 'supported settings:' | grep -w le | grep -vq 'br/edr' || return 1; done
}
lab_check le_only_controllers le_only hci0 hci1
lab_check distinct_addresses test "$LAB_BLE_DEV_ADDR" != "$LAB_BLE_PHONE_ADDR"

# The device: GATT application + two advertisements on hci0.
t0=$(lab_ms)
lab_bg gatt-server "$LAB_BLE_PY" "$LAB_LIBDIR/ble_gatt.py" server --adapter hci0 --name "$NAME" \
    --service "$SVC" --char "$CHR" --adv-uuid fff0 --adv-uuid fff1
lab_check server_ready lab_wait 90 "GATT server registered" grep -q '"event": "ready"' "$LAB_OUT/gatt-server.log" ||
    lab_fail "GATT application / advertisements not registered"
lab_report server_register_ms "$(( $(lab_ms) - t0 ))"
ready=$(grep -m1 '"event": "ready"' "$LAB_OUT/gatt-server.log")
lab_report server_ready "$ready"
lab_check server_registered_all grep -q '"ok": true}$' <<<"$ready"
lab_check two_adv_instances grep -q '"ActiveInstances": 2,' <<<"$ready"
lab_report_str dev_advinfo "$(lab_btmgmt --index hci0 advinfo | grep -E '^(Max|Instances)' | tr '\n' ';')"

# The phone: discover, connect, GATT discovery, read/write on hci1.
t0=$(lab_ms)
timeout 150 "$LAB_BLE_PY" "$LAB_LIBDIR/ble_gatt.py" client --adapter hci1 --name "$NAME" --service "$SVC" \
    --char "$CHR" --adv-uuid fff0 --adv-uuid fff1 --timeout 120 --try-len 512 \
    >"$LAB_OUT/gatt-client.json" 2>"$LAB_OUT/gatt-client.log"
lab_report client_ms "$(( $(lab_ms) - t0 ))"
lab_report gatt_client "$(cat "$LAB_OUT/gatt-client.json")"
lab_log "client: $(cat "$LAB_OUT/gatt-client.json")"
# One python call: the client's facts as shell variables C_<key> (True/False, numbers, strings).
eval "$(python3 - "$LAB_OUT/gatt-client.json" "$SVC" <<'PY'
import json, shlex, sys
try:
    r = json.load(open(sys.argv[1]))
except ValueError:
    r = {}
f = {k: v for k, v in r.items() if isinstance(v, (bool, int, str))}
f["address"] = r.get("device", {}).get("Address", "")
f["both_uuids"] = {"0000fff0-0000-1000-8000-00805f9b34fb", "0000fff1-0000-1000-8000-00805f9b34fb"} <= set(r.get("adv_uuids_seen", []))
f["service_found"] = sys.argv[2] in r.get("services", [])
for k, v in f.items():
    print("C_%s=%s" % (k.replace("-", "_"), shlex.quote(str(v))))
PY
)"
lab_check discovered test "${C_address:-}" = "$LAB_BLE_DEV_ADDR"
lab_check discovered_on_phone_adapter test "${C_device_path:-}" = "/org/bluez/hci1/dev_${LAB_BLE_DEV_ADDR//:/_}"
lab_check both_adv_instances_seen test "${C_both_uuids:-}" = True
lab_check connected test -n "${C_connect_ms:-}"
lab_check services_resolved test -n "${C_services_resolved_ms:-}"
lab_check service_found test "${C_service_found:-}" = True
lab_check read_ok test "${C_read_initial_ok:-}" = True
lab_check write_ok test "${C_write_short_ok:-}" = True
lab_check offset_write_ok test "${C_write_offset_ok:-}" = True
lab_check long_write_ok test "${C_write_long_ok:-}" = True
lab_check big_write_ok test "${C_write_big_ok:-}" = True
lab_check client_ok test "${C_ok:-}" = True
# The device side saw the phone's writes, from hci1's address over LE, under the same bluetoothd.
lab_check server_saw_phone grep -q "\"device\": \"/org/bluez/hci0/dev_${LAB_BLE_PHONE_ADDR//:/_}\", \"link\": \"LE\"" "$LAB_OUT/gatt-server.log"
lab_check server_saw_offset_write grep -q '"event": "write", "offset": 6, "len": 3' "$LAB_OUT/gatt-server.log"

# On the air (btmon's decoded trace of both controllers).
if [[ -f $LAB_OUT/btmon.log ]]; then
    sleep 1
    lab_check air_le_connection bash -c "[ \$(grep -c 'LE Connection Complete (0x01)' '$LAB_OUT/btmon.log') -ge 2 ]"
    lab_check air_mtu_exchange grep -q 'ATT: Exchange MTU Request' "$LAB_OUT/btmon.log"
    lab_check air_prepare_write grep -q 'ATT: Prepare Write Request' "$LAB_OUT/btmon.log"
    lab_check air_execute_write grep -q 'ATT: Execute Write Request' "$LAB_OUT/btmon.log"
    lab_report_str air_mtus "$(grep -A1 'ATT: Exchange MTU' "$LAB_OUT/btmon.log" | grep -o '[A-Za-z]* RX MTU: [0-9]*' | sort -u | tr '\n' ';')"
    lab_report air_att_over_eatt "$(grep -q 'PSM 39' "$LAB_OUT/btmon.log" && echo true || echo false)"
fi

# Facts: what the GATT application saw (offsets: a long write arrives as one WriteValue, a long read
# as one ReadValue per read blob request).
lab_report_str server_writes "$(grep -o '"event": "write", "offset": [0-9]*, "len": [0-9]*' "$LAB_OUT/gatt-server.log" | sed 's/"event": "write", //' | tr '\n' ';')"
lab_report_str server_read_offsets "$(grep -o '"event": "read", "offset": [0-9]*' "$LAB_OUT/gatt-server.log" | grep -o '[0-9]*$' | tr '\n' ' ')"
lab_finish
