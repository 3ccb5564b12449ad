#!/bin/busybox sh
# /init of the test VM's initramfs (busybox). Mounts the host's root
# read-only and the project writable over 9p, loads lainko.ko, runs pytest
# chrooted into the host root, and leaves pytest's exit status in the
# marker file on the project share. Any failure before that powers off
# without a marker, which the host counts as a failed run.
/bin/busybox mkdir -p /proc /sys /dev /newroot
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

. /harness.env

fail() {
	echo "lainko-vm: $*"
	poweroff -f
}

mount_9p() {
	mount -t 9p -o "trans=virtio,version=9p2000.L,cache=loose,msize=262144$3" "$1" "$2"
}

while read -r mod; do
	insmod "/modules/$mod" || fail "insmod $mod failed"
done < /modules.list

mount_9p hostroot /newroot ",ro" || fail "cannot mount the host root"
for fs in /dev /proc /sys /tmp /run; do
	[ -d "/newroot$fs" ] || fail "host root has no $fs"
done
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/shm /newroot/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
mount -t tmpfs -o mode=755 tmpfs /newroot/run
# Last, so that a project under /tmp or /run is not hidden by the tmpfs.
mkdir -p "/newroot$LAINKO_PROJ" 2>/dev/null
mount_9p project "/newroot$LAINKO_PROJ" "" || fail "cannot mount the project"

insmod /lainko.ko || fail "insmod lainko.ko failed"
insmod /lainko_selftest.ko || fail "insmod lainko_selftest.ko failed"
for node in /dev/lainmemu /dev/lainkmem; do
	[ -c "/newroot$node" ] || fail "$node was not created"
done
echo "lainko-vm: kernel $(uname -r), lainko major $(cat /sys/class/lainko/lainmemu_major)"

set --
while IFS= read -r arg; do
	set -- "$@" "$arg"
done < /pytest.args

chroot /newroot /usr/bin/env -i \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/tmp LANG=C.UTF-8 TERM=dumb PYTHONDONTWRITEBYTECODE=1 \
	QT_QPA_PLATFORM=offscreen XDG_STATE_HOME=/tmp/state \
	LAINKO_VM=1 LAINKO_KO="$LAINKO_KO" LAINKO_RUN="$LAINKO_RUN" \
	/bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$LAINKO_PROJ" \
	"$LAINKO_PYTHON" -m pytest "$@"
rc=$?

echo "lainko-vm: pytest exit status $rc"
echo "$rc" > "/newroot$LAINKO_MARKER"
sync
poweroff -f
