#!/usr/bin/python3
"""BLE peers for lab scenarios, driven through bluetoothd's D-Bus API (python3-dbus, python3-gi).

  ble_gatt.py server --adapter hci0 --name NAME --service UUID --char UUID [--adv-uuid UUID]...
      Registers a GATT application (one primary service with one read/write characteristic whose
      value starts as b"lab-ble-hello") and one LE advertisement per --adv-uuid (peripheral,
      discoverable, LocalName NAME / NAME-1 / ..., ServiceUUIDs [UUID]) on ADAPTER. Prints JSON lines: "ready"
      (with the advertising manager's instance counts), "read", "write" (offset, length, type, mtu,
      device, link), "adv-released"; runs until SIGTERM/SIGINT.
  ble_gatt.py client --adapter hci1 --name NAME --service UUID --char UUID [--adv-uuid UUID]... [--timeout S]
      LE discovery on ADAPTER until a device advertising NAME (or one of the --adv-uuid) shows up,
      then Connect (3 attempts), wait for ServicesResolved, find the service and characteristic,
      read, write (short; at an offset, i.e. prepare/execute; --long bytes, prepare/execute when
      longer than MTU - 3; --big bytes), read back each time, Disconnect. Prints one JSON object
      (facts, timings in ms); exit 0 iff every step passed.
"""
import time

T0 = time.monotonic()  # interpreter start, before the slow (under TCG) imports below

import argparse  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import dbus  # noqa: E402
import dbus.exceptions  # noqa: E402
import dbus.service  # noqa: E402

BLUEZ = "org.bluez"
OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
ADAPTER = "org.bluez.Adapter1"
DEVICE = "org.bluez.Device1"
GATT_SVC = "org.bluez.GattService1"
GATT_CHRC = "org.bluez.GattCharacteristic1"
INITIAL = b"lab-ble-hello"


def out(obj):
    print(json.dumps(obj, default=str), flush=True)


def now_ms():
    return int(time.monotonic() * 1000)


def uuid128(u):
    u = u.lower()
    if len(u) == 4:
        return "0000%s-0000-1000-8000-00805f9b34fb" % u
    if len(u) == 8:
        return "%s-0000-1000-8000-00805f9b34fb" % u
    return u


def plain(v):
    """dbus types -> JSON-able python values."""
    if isinstance(v, (dbus.Array, list)):
        if v and isinstance(v[0], dbus.Byte):
            return bytes(v).hex()
        return [plain(x) for x in v]
    if isinstance(v, (dbus.Dictionary, dict)):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, dbus.Boolean):
        return bool(v)
    if isinstance(v, (dbus.String, dbus.ObjectPath)):
        return str(v)
    if isinstance(v, (dbus.Byte, dbus.Int16, dbus.UInt16, dbus.Int32, dbus.UInt32, dbus.Int64, dbus.UInt64)):
        return int(v)
    return v


# ------------------------------------------------------------------ server (device side)

class Failed(dbus.exceptions.DBusException):
    _dbus_error_name = "org.bluez.Error.Failed"


class InvalidOffset(dbus.exceptions.DBusException):
    _dbus_error_name = "org.bluez.Error.InvalidOffset"


class Application(dbus.service.Object):
    def __init__(self, bus, path):
        self.path = path
        self.objects = []
        super().__init__(bus, path)

    @dbus.service.method(OM, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {o.path: o.props() for o in self.objects}


class Service(dbus.service.Object):
    def __init__(self, bus, path, uuid):
        self.path, self.uuid = path, uuid
        super().__init__(bus, path)

    def props(self):
        return {GATT_SVC: {"UUID": self.uuid, "Primary": dbus.Boolean(True)}}


class Characteristic(dbus.service.Object):
    def __init__(self, bus, path, uuid, service):
        self.path, self.uuid, self.service = path, uuid, service
        self.value = bytearray(INITIAL)
        super().__init__(bus, path)

    def props(self):
        return {GATT_CHRC: {"UUID": self.uuid, "Service": dbus.ObjectPath(self.service.path),
                            "Flags": dbus.Array(["read", "write"], signature="s")}}

    @dbus.service.method(PROPS, in_signature="ss", out_signature="v")
    def Get(self, iface, name):
        return self.props()[iface][name]

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.props().get(iface, {})

    @dbus.service.method(GATT_CHRC, in_signature="a{sv}", out_signature="ay")
    def ReadValue(self, options):
        off = int(options.get("offset", 0))
        out({"event": "read", "offset": off, "mtu": plain(options.get("mtu")),
             "device": plain(options.get("device")), "link": plain(options.get("link"))})
        if off > len(self.value):
            raise InvalidOffset("offset %d > %d" % (off, len(self.value)))
        return dbus.Array(bytes(self.value[off:]), signature="y")

    @dbus.service.method(GATT_CHRC, in_signature="aya{sv}")
    def WriteValue(self, value, options):
        off = int(options.get("offset", 0))
        data = bytes(value)
        out({"event": "write", "offset": off, "len": len(data), "type": plain(options.get("type")),
             "mtu": plain(options.get("mtu")), "device": plain(options.get("device")),
             "link": plain(options.get("link")), "prepare_authorize": plain(options.get("prepare-authorize"))})
        if off > len(self.value):
            raise InvalidOffset("offset %d > %d" % (off, len(self.value)))
        self.value[off:off + len(data)] = data


class Advertisement(dbus.service.Object):
    def __init__(self, bus, path, name, uuids):
        self.path = path
        self.p = {"Type": "peripheral", "LocalName": dbus.String(name),
                  "ServiceUUIDs": dbus.Array(uuids, signature="s"), "Discoverable": dbus.Boolean(True)}
        super().__init__(bus, path)

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return self.p if iface == "org.bluez.LEAdvertisement1" else {}

    @dbus.service.method("org.bluez.LEAdvertisement1")
    def Release(self):
        out({"event": "adv-released", "path": self.path})


def server(args):
    import dbus.mainloop.glib  # only the server needs a main loop (slow imports under TCG)
    from gi.repository import GLib
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    t_main = now_ms()
    bus = dbus.SystemBus()
    apath = "/org/bluez/" + args.adapter
    loop = GLib.MainLoop()
    app = Application(bus, "/lab")
    svc = Service(bus, "/lab/service0", uuid128(args.service))
    chrc = Characteristic(bus, "/lab/service0/char0", uuid128(args.char), svc)
    app.objects = [svc, chrc]
    advs = [Advertisement(bus, "/lab/adv%d" % i, args.name if i == 0 else "%s-%d" % (args.name, i), [u])
            for i, u in enumerate(args.adv_uuid or ["fff0"])]
    pending = {"app": None}
    for a in advs:
        pending[a.path] = None
    result = {}

    def done(key, err=None):
        pending[key] = "ok" if err is None else str(err)
        if None in pending.values():
            return
        mgr = bus.get_object(BLUEZ, apath)
        info = {}
        try:
            info = plain(mgr.GetAll("org.bluez.LEAdvertisingManager1", dbus_interface=PROPS))
        except dbus.exceptions.DBusException as e:
            info = {"error": str(e)}
        result.update(event="ready", adapter=args.adapter, registered=dict(pending), adv_manager=info,
                      startup_ms=t_main - int(T0 * 1000), register_ms=now_ms() - t_main,
                      ok=all(v == "ok" for v in pending.values()))
        out(result)

    gm = dbus.Interface(bus.get_object(BLUEZ, apath), "org.bluez.GattManager1")
    gm.RegisterApplication(dbus.ObjectPath(app.path), {}, reply_handler=lambda: done("app"),
                           error_handler=lambda e: done("app", e))
    am = dbus.Interface(bus.get_object(BLUEZ, apath), "org.bluez.LEAdvertisingManager1")
    for a in advs:
        am.RegisterAdvertisement(dbus.ObjectPath(a.path), {}, reply_handler=lambda p=a.path: done(p),
                                 error_handler=lambda e, p=a.path: done(p, e))
    for s in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, s, loop.quit)
    loop.run()
    out({"event": "exit", "final_value_len": len(chrc.value)})


# ------------------------------------------------------------------ client (phone side)

def client(args):
    bus = dbus.SystemBus()
    apath = "/org/bluez/" + args.adapter
    om = dbus.Interface(bus.get_object(BLUEZ, "/"), OM)
    adapter = dbus.Interface(bus.get_object(BLUEZ, apath), ADAPTER)
    want_uuids = {uuid128(u) for u in (args.adv_uuid or [])}
    r = {"adapter": args.adapter, "ok": False, "startup_ms": now_ms() - int(T0 * 1000)}
    deadline = time.monotonic() + args.timeout

    def objects():
        return om.GetManagedObjects()

    def step(name):
        r["step"] = name

    try:
        step("discovery")
        adapter.SetDiscoveryFilter({"Transport": "le", "DuplicateData": dbus.Boolean(False)})
        t0 = now_ms()
        adapter.StartDiscovery()
        dev_path = None
        while dev_path is None:
            for path, ifaces in objects().items():
                d = ifaces.get(DEVICE)
                if not d or not path.startswith(apath + "/"):
                    continue
                uuids = {str(u).lower() for u in d.get("UUIDs", [])}
                if str(d.get("Name", "")) == args.name or (want_uuids & uuids):
                    dev_path = path
                    break
            if dev_path is None:
                if time.monotonic() > deadline:
                    raise RuntimeError("no advertisement from %s seen" % args.name)
                time.sleep(0.1)
        r["discovery_ms"] = now_ms() - t0
        # Keep scanning a little when several advertisements are expected (software rotation).
        if len(want_uuids) > 1:
            end = time.monotonic() + args.adv_wait
            while time.monotonic() < end:
                d = objects()[dev_path][DEVICE]
                if want_uuids <= {str(u).lower() for u in d.get("UUIDs", [])}:
                    break
                time.sleep(0.2)
            r["all_adv_uuids_ms"] = now_ms() - t0
        d = objects()[dev_path][DEVICE]
        r["device"] = {k: plain(d.get(k)) for k in ("Address", "AddressType", "Name", "Alias", "RSSI", "UUIDs",
                                                     "Paired", "Connected", "Adapter")}
        r["device_path"] = str(dev_path)
        r["adv_uuids_seen"] = sorted(str(u).lower() for u in d.get("UUIDs", []))
        adapter.StopDiscovery()

        step("connect")
        dev = dbus.Interface(bus.get_object(BLUEZ, dev_path), DEVICE)
        t1 = now_ms()
        for attempt in range(1, 4):
            r["connect_attempts"] = attempt
            try:
                dev.Connect(timeout=max(1, deadline - time.monotonic()))
                break
            except dbus.exceptions.DBusException as e:
                r.setdefault("connect_errors", []).append(str(e))
                if attempt == 3 or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        r["connect_ms"] = now_ms() - t1
        step("services")
        dprops = dbus.Interface(bus.get_object(BLUEZ, dev_path), PROPS)
        while not dprops.Get(DEVICE, "ServicesResolved"):
            if time.monotonic() > deadline:
                raise RuntimeError("ServicesResolved never became true")
            time.sleep(0.1)
        r["services_resolved_ms"] = now_ms() - t1
        objs = objects()
        svcs = {p: i[GATT_SVC] for p, i in objs.items() if GATT_SVC in i and p.startswith(dev_path + "/")}
        r["services"] = sorted(str(s["UUID"]) for s in svcs.values())
        svc_path = next((p for p, s in svcs.items() if str(s["UUID"]).lower() == uuid128(args.service)), None)
        if svc_path is None:
            raise RuntimeError("service %s not found" % args.service)
        chrcs = {p: i[GATT_CHRC] for p, i in objs.items() if GATT_CHRC in i and p.startswith(svc_path + "/")}
        chrc_path = next((p for p, c in chrcs.items() if str(c["UUID"]).lower() == uuid128(args.char)), None)
        if chrc_path is None:
            raise RuntimeError("characteristic %s not found" % args.char)
        c = chrcs[chrc_path]
        r["char"] = {"path": str(chrc_path), "flags": plain(c.get("Flags")), "mtu": plain(c.get("MTU"))}
        ch = dbus.Interface(bus.get_object(BLUEZ, chrc_path), GATT_CHRC)

        def read():
            return bytes(ch.ReadValue({}))

        step("read")
        t2 = now_ms()
        v = read()
        r["read_ms"] = now_ms() - t2
        r["read_initial_ok"] = v == INITIAL
        step("write")
        short = b"short-write-0123456789"
        t3 = now_ms()
        ch.WriteValue(dbus.Array(short, signature="y"), {"type": "request"})
        r["write_ms"] = now_ms() - t3
        r["write_short_ok"] = read() == short
        step("offset-write")
        # A write at an offset is a prepare write + execute write in bluetoothd's client.
        ch.WriteValue(dbus.Array(b"XYZ", signature="y"), {"offset": dbus.UInt16(6)})
        r["write_offset_ok"] = read() == short[:6] + b"XYZ" + short[9:]
        mtu = int(dbus.Interface(bus.get_object(BLUEZ, chrc_path), PROPS).Get(GATT_CHRC, "MTU"))
        r["mtu"] = mtu
        step("long-write")
        # Longer than MTU - 3: bluetoothd sends prepare writes + execute (and reads it back with
        # read blob requests when longer than MTU - 1).
        long_v = bytes((i * 13 + 1) & 0xFF for i in range(args.long))
        t5 = now_ms()
        ch.WriteValue(dbus.Array(long_v, signature="y"), {"type": "request"})
        r["write_long_ms"] = now_ms() - t5
        r["write_long_is_prepare_execute"] = args.long > mtu - 3
        r["write_long_ok"] = read()[:len(long_v)] == long_v
        step("big-write")
        big = bytes((i * 7) & 0xFF for i in range(args.big))
        t4 = now_ms()
        ch.WriteValue(dbus.Array(big, signature="y"), {"type": "request"})
        r["write_big_ms"] = now_ms() - t4
        r["write_big_ok"] = read()[:len(big)] == big
        if args.try_len:
            # Not a pass condition: BlueZ < 5.69's server counts the ATT header against the 512-byte
            # value limit (values of 511/512 bytes are refused with "Invalid Length").
            try:
                ch.WriteValue(dbus.Array(bytes(args.try_len), signature="y"), {"type": "request"})
                r["write_try_len_result"] = "ok"
            except dbus.exceptions.DBusException as e:
                r["write_try_len_result"] = str(e)
        step("disconnect")
        dev.Disconnect()
        r["ok"] = all(r[k] for k in ("read_initial_ok", "write_short_ok", "write_offset_ok", "write_long_ok",
                                     "write_big_ok"))
        step("done")
    except Exception as e:  # noqa: BLE001 - report any failure as a fact
        r["error"] = "%s: %s" % (type(e).__name__, e)
    out(r)
    return 0 if r["ok"] else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["server", "client"])
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--service", required=True)
    ap.add_argument("--char", required=True)
    ap.add_argument("--adv-uuid", action="append")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--adv-wait", type=float, default=10, help="client: seconds to wait for every --adv-uuid")
    ap.add_argument("--long", type=int, default=200, help="client: length of the second write")
    ap.add_argument("--big", type=int, default=510, help="client: length of the big write (BlueZ 5.66 max: 510)")
    ap.add_argument("--try-len", type=int, default=0, help="client: also try a write of this length, report the result")
    args = ap.parse_args()
    sys.exit(server(args) if args.role == "server" else client(args))


if __name__ == "__main__":
    main()
