#!/bin/busybox sh
# /init of the lab initramfs (busybox-static). Built into lab/cache/initrd-*.gz by lab/run; the image is
# rebuilt whenever this file changes.
#
# 1. load the virtio / 9p / overlay modules listed in /modules/order (dependency order);
# 2. mount the host root (9p tag "hostroot", read-only) under a tmpfs overlay at /newroot;
# 3. make the unpacked lab kernel's modules visible at /newroot/lib/modules/$(uname -r) and route the
#    kernel's on-demand module loading (crypto for mac80211, sch_netem, ...) into /newroot;
# 4. mount the writable results share (9p tag "out") at /newroot/labout;
# 5. chroot into /newroot and run the scenario named by labscript= on the kernel command line, with a
#    time limit; if it leaves no report.json, write a failing one;
# 6. poweroff -f, always (PID 1 never returns; if it died the kernel would panic and, with panic=-1 and
#    qemu -no-reboot, qemu exits too).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
NR=/newroot

say() { echo "[init $(cut -d' ' -f1 /proc/uptime)] $*"; }
finish() { sync; say "poweroff"; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo 1 >/proc/sys/kernel/sysrq 2>/dev/null

for m in $(cat /modules/order); do
    insmod "/modules/$m" 2>/dev/null || grep -q "^${m%.ko} " /proc/modules || say "insmod $m failed"
done

script=""
for w in $(cat /proc/cmdline); do
    case $w in labscript=*) script="${w#labscript=}" ;; esac
done

opts="trans=virtio,version=9p2000.L,msize=512000"
if ! mount -t 9p -o "$opts,ro,cache=loose" hostroot /ro; then
    say "FATAL: cannot mount the host root over 9p"; finish
fi
mount -t tmpfs -o mode=0755,size=60% tmpfs /rw
mkdir -p /rw/upper /rw/work
if ! mount -t overlay overlay -o lowerdir=/ro,upperdir=/rw/upper,workdir=/rw/work "$NR"; then
    # Fallback layout: read-only root with tmpfs on the usual writable places.
    say "overlay failed; using a read-only root with tmpfs /tmp /run /var"
    mount --bind /ro "$NR"
    for d in var/tmp var/lib var/log root; do mount -t tmpfs tmpfs "$NR/$d"; done
fi
mount -t proc proc "$NR/proc"
mount -t sysfs sysfs "$NR/sys"
mount -t devtmpfs devtmpfs "$NR/dev"
mkdir -p "$NR/dev/pts" "$NR/dev/shm"
mount -t devpts devpts "$NR/dev/pts"
mount -t tmpfs tmpfs "$NR/dev/shm"
mount -t debugfs debugfs "$NR/sys/kernel/debug" 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs "$NR/tmp"
mount -t tmpfs -o mode=0755 tmpfs "$NR/run"
mkdir -p "$NR/run/lock" "$NR/run/lab" "$NR/labout"
if ! mount -t 9p -o "$opts" out "$NR/labout"; then
    say "FATAL: cannot mount the results share"; finish
fi

# Settings from the runner (LAB_NAME LAB_SCRIPT LAB_ROOT LAB_KDIR LAB_KVER WIFIPROV LAB_TIMEOUT).
. "$NR/labout/.lab-env"
[ -n "$script" ] || script="$LAB_SCRIPT"
kver="$(uname -r)"
[ "$kver" = "$LAB_KVER" ] || say "warning: running kernel $kver, runner expected $LAB_KVER"
mkdir -p "$NR/lib/modules/$kver"
mount --bind "$NR$LAB_KDIR/lib/modules/$kver" "$NR/lib/modules/$kver"
# request_module() runs the helper in the initramfs root (kernel threads keep it), so hop into /newroot.
printf '#!/bin/sh\nexec /bin/chroot %s /sbin/modprobe "$@"\n' "$NR" >/sbin/lab-modprobe
chmod 0755 /sbin/lab-modprobe
echo /sbin/lab-modprobe >/proc/sys/kernel/modprobe

hostname lab
ip link set lo up

limit=$(( ${LAB_TIMEOUT:-240} - 25 ))
[ "$limit" -ge 20 ] || limit=20
boot_s="$(cut -d' ' -f1 /proc/uptime)"
say "running $script (guest limit ${limit}s)"
(
    chroot "$NR" /usr/bin/env -i \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        HOME=/root TERM=dumb LANG=C.UTF-8 \
        LAB_NAME="$LAB_NAME" LAB_OUT=/labout LAB_ROOT="$LAB_ROOT" WIFIPROV="$WIFIPROV" \
        LAB_LIB="$LAB_ROOT/lab/lib/guest.sh" LAB_BOOT_S="$boot_s" LAB_KVER="$kver" \
        /usr/bin/timeout -k 5 "$limit" /bin/bash "$script"
    echo $? >/rw/rc
) 2>&1 | tee "$NR/labout/scenario.log"
rc="$(cat /rw/rc 2>/dev/null || echo 255)"
say "scenario exited with $rc"
if [ ! -s "$NR/labout/report.json" ]; then
    reason="scenario exited with $rc and wrote no report"
    [ "$rc" = 124 ] && reason="scenario exceeded the guest time limit (${limit}s)"
    printf '{"scenario": "%s", "pass": false, "error": "%s"}\n' "$LAB_NAME" "$reason" \
        >"$NR/labout/report.json"
fi
umount "$NR/labout" 2>/dev/null
finish
