# shellcheck shell=bash
# BLE helpers for lab scenarios (sourced after guest.sh). Two emulated LE-only controllers on one
# emulated air (one btvirt process over /dev/vhci), both managed by one bluetoothd on the system D-Bus:
# hci0 is the device (GATT server, advertiser), hci1 the phone (central). A D-Bus client picks a
# controller by its adapter object, /org/bluez/hci0 or /org/bluez/hci1.
#   lab_ble                     bring both up (modules, btmon, btvirt, D-Bus, bluetoothd); sets LAB_BLE_*
#   lab_ble_prop HCI PROPERTY   an org.bluez.Adapter1 property of HCI (busctl, strings unquoted)
#   lab_ble_powered HCI         the kernel reports HCI powered with LE enabled (mgmt current settings)
#   lab_btmgmt ARGS...          btmgmt, non-interactive (e.g. lab_btmgmt --index hci0 advinfo)
#   lab_ble_py ARGS...          lab/lib/ble_gatt.py: GATT server + advertiser, or central client

LAB_BLE_PY=/usr/bin/python3   # Debian's python3 has python3-dbus and python3-gi (a pyenv python may not)

# lab_ble — load bluetooth + hci_vhci, start an HCI capture of every controller (btmon: decoded
# $LAB_OUT/btmon.log, raw $LAB_OUT/ble.btsnoop; LAB_BLE_BTMON=0 skips it), then `btvirt -L -l2` (two
# LE-only controllers hci0, hci1 in one process, i.e. on one air) and wait until the kernel has set
# both up. Retried (3 starts at most): under load the first start often loses hci0 — its first HCI
# Reset is never answered ("hci0: Opcode 0x0c03 failed: -110"), a race in btvirt/hci_vhci setup; a
# second start has always worked. Then the system D-Bus (unless running) and `bluetoothd -n` (log
# $LAB_OUT/bluetoothd.log, config $LAB_STATE/bluetooth-main.conf: LAB_BLE_MTU sets [GATT]
# ExchangeMTU, default 517, BlueZ 5.66 refuses < 48; [GATT] Channels = 1 unless LAB_BLE_EATT=1;
# $LAB_BLUETOOTHD_ARGS are appended, e.g. -d). Waits until both adapters are powered on D-Bus.
# Sets LAB_BLE_DEV_HCI=hci0, LAB_BLE_PHONE_HCI=hci1, LAB_BLE_DEV_ADDR, LAB_BLE_PHONE_ADDR (public BD
# addresses, 00:AA:01:00:00:00 and 00:AA:01:01:00:01), LAB_BLE_DEV_PATH=/org/bluez/hci0,
# LAB_BLE_PHONE_PATH=/org/bluez/hci1, LAB_BLE_UP_MS (duration of the call), LAB_BLE_BTVIRT_STARTS.
lab_ble() {
    local t0 hci try mark
    t0=$(lab_ms)
    modprobe bluetooth && modprobe hci_vhci || { lab_log "modprobe bluetooth/hci_vhci failed"; return 1; }
    lab_wait 5 "/dev/vhci" test -c /dev/vhci || return 1
    lab_log "ble: modules loaded after $(( $(lab_ms) - t0 )) ms"
    [[ ${LAB_BLE_BTMON:-1} != 0 ]] && lab_bg btmon btmon -w "$LAB_OUT/ble.btsnoop"
    for try in 1 2 3; do
        LAB_BLE_BTVIRT_STARTS=$try
        mark=$(dmesg | grep -c 'Bluetooth: hci.*failed: -110')
        lab_bg btvirt btvirt -L -l2
        lab_wait 30 "hci0 and hci1 set up" _lab_ble_settled "$mark" hci0 hci1
        _lab_ble_indexes hci0 hci1 && break
        lab_log "btvirt start $try: controllers not set up: $(dmesg | grep 'Bluetooth: hci' | tail -n 2 | tr '\n' ' ')"
        kill "$LAB_LAST_PID" 2>/dev/null
        lab_wait 10 "old controllers gone" bash -c '! ls -d /sys/class/bluetooth/hci* >/dev/null 2>&1'
        ((try < 3)) || return 1
    done
    lab_log "ble: controllers set up after $(( $(lab_ms) - t0 )) ms"
    if [[ ! -S /run/dbus/system_bus_socket ]]; then
        mkdir -p /run/dbus
        [[ -s /etc/machine-id ]] || dbus-uuidgen --ensure=/etc/machine-id
        lab_bg dbus dbus-daemon --system --nofork --nopidfile
        lab_wait 30 "system bus" test -S /run/dbus/system_bus_socket || return 1
        lab_log "ble: system D-Bus after $(( $(lab_ms) - t0 )) ms"
    fi
    # [GATT] Channels = 1: plain ATT on the fixed channel, as with an ESP32 (no EATT); with BlueZ's
    # default (3) the two sides, both bluetoothd, run GATT over EATT (L2CAP PSM 0x27).
    printf '[General]\nName = lab\n[GATT]\nExchangeMTU = %s\nChannels = %s\n[Policy]\nAutoEnable = true\n' \
        "${LAB_BLE_MTU:-517}" "$([[ ${LAB_BLE_EATT:-0} == 1 ]] && echo 3 || echo 1)" >"$LAB_STATE/bluetooth-main.conf"
    mkdir -p /var/lib/bluetooth
    # shellcheck disable=SC2086
    lab_bg bluetoothd /usr/sbin/bluetoothd -n -f "$LAB_STATE/bluetooth-main.conf" ${LAB_BLUETOOTHD_ARGS:-}
    for hci in hci0 hci1; do
        lab_wait 40 "$hci on D-Bus" lab_ble_prop "$hci" Address || return 1
        lab_log "ble: $hci on D-Bus after $(( $(lab_ms) - t0 )) ms"
        # AutoEnable powers adapters on; power on explicitly if that did not happen.
        if ! lab_wait 20 "$hci powered" lab_ble_powered "$hci"; then
            lab_btmgmt --index "$hci" power on >&2
            lab_wait 20 "$hci powered" lab_ble_powered "$hci" || return 1
        fi
        lab_wait 20 "$hci Powered on D-Bus" _lab_ble_prop_is "$hci" Powered true || return 1
    done
    LAB_BLE_DEV_HCI=hci0 LAB_BLE_PHONE_HCI=hci1
    LAB_BLE_DEV_PATH=/org/bluez/hci0 LAB_BLE_PHONE_PATH=/org/bluez/hci1
    LAB_BLE_DEV_ADDR=$(lab_ble_prop hci0 Address) LAB_BLE_PHONE_ADDR=$(lab_ble_prop hci1 Address)
    LAB_BLE_UP_MS=$(( $(lab_ms) - t0 ))
    lab_log "BLE up in ${LAB_BLE_UP_MS} ms: device hci0 $LAB_BLE_DEV_ADDR, phone hci1 $LAB_BLE_PHONE_ADDR"
}

# lab_btmgmt ARGS... — btmgmt without its interactive shell. The shell cannot poll /dev/null (with
# stdin </dev/null btmgmt prints nothing and exits 0), so stdin is an empty pipe. Bounded (10 s).
lab_btmgmt() { true | timeout 10 btmgmt "$@" 2>&1; }

# _lab_ble_settled MARK HCI... — every HCI is set up, or the kernel logged a new (beyond MARK) HCI
# command timeout, i.e. a controller's setup failed.
_lab_ble_settled() {
    local mark=$1; shift
    _lab_ble_indexes "$@" || (( $(dmesg | grep -c 'Bluetooth: hci.*failed: -110') > mark ))
}

# _lab_ble_indexes HCI... — the kernel lists every HCI as a set-up controller (mgmt index list).
_lab_ble_indexes() {
    local info h
    info=$(lab_btmgmt info) || return 1
    for h in "$@"; do grep -q "^$h:" <<<"$info" || return 1; done
}

# lab_ble_prop HCI PROPERTY — e.g. lab_ble_prop hci0 Address -> 00:AA:01:00:00:23.
lab_ble_prop() {
    local v
    v=$(busctl get-property org.bluez "/org/bluez/$1" org.bluez.Adapter1 "$2" 2>/dev/null) || return 1
    v=${v#* }
    v=${v#\"}
    printf '%s\n' "${v%\"}"
}

_lab_ble_prop_is() { [[ $(lab_ble_prop "$1" "$2") == "$3" ]]; }

# lab_ble_powered HCI — the kernel (mgmt) reports HCI powered with LE enabled.
lab_ble_powered() {
    lab_btmgmt --index "$1" info | grep -E '^[[:space:]]*current settings:' | grep -w powered | grep -qw le
}

lab_ble_py() { "$LAB_BLE_PY" "$LAB_LIBDIR/ble_gatt.py" "$@"; }
