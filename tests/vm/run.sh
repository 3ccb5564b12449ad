#!/usr/bin/env bash
# Boot the installed Debian kernel in QEMU (TCG), load a freshly built
# lainko.ko and run the project's device-marked tests against the real
# /dev/lainmemu and /dev/lainkmem.
#
#   bash tests/vm/run.sh [PYTEST ARGS...]
#
# Extra arguments go to pytest after "-m device" and replace the default
# selection, the whole tests/ directory (paths are relative to the project). The exit status is pytest's inside the guest; a guest that
# dies before writing its status (oops, panic, timeout) is a failure.
#
# Environment:
#   LAINKO_VM_PYTHON   interpreter inside the guest (default .venv/bin/python)
#   LAINKO_VM_TIMEOUT  seconds for the whole VM run (default 900)
#   LAINKO_VM_KVER     kernel version to boot (default: newest with headers)
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PROJ="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/.work"
PYTHON="${LAINKO_VM_PYTHON:-$PROJ/.venv/bin/python}"
TIMEOUT="${LAINKO_VM_TIMEOUT:-900}"
DEBS="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static kmod cpio make gcc"
# virtio_pci carries the 9p transport; the rest is the 9p stack.
GUEST_MODULES="virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"

log() { echo "vm: $*" >&2; }
die() { log "$*"; exit 1; }

ensure_packages() {
	local pkg missing=()
	for pkg in $DEBS; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
			grep -q "install ok installed" || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=""
	[ "$(id -u)" -ne 0 ] && sudo="sudo"
	log "installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# The newest installed kernel that has headers to build against.
pick_kernel() {
	local v
	if [ -n "${LAINKO_VM_KVER:-}" ]; then
		echo "$LAINKO_VM_KVER"
		return
	fi
	for v in $(ls -1 /lib/modules | sort -rV); do
		if [ -f "/usr/src/linux-headers-$v/Makefile" ] &&
		   [ -f "/boot/vmlinuz-$v" ]; then
			echo "$v"
			return
		fi
	done
	die "no kernel in /lib/modules with matching /usr/src/linux-headers-*"
}

build_module() {
	rm -rf "$WORK/kmod"
	mkdir -p "$WORK/kmod"
	cp "$PROJ"/kmod/*.[ch] "$PROJ/kmod/Kbuild" "$WORK/kmod/"
	make -s -C "/usr/src/linux-headers-$KVER" M="$WORK/kmod" modules \
		>"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; die "module build failed"; }
	grep -i "warning" "$WORK/build.log" >&2 || true
}

# Copy a module into the initramfs, uncompressed (busybox insmod).
add_module() {
	local src="$1" dst="$2"
	case "$src" in
	*.ko.xz) xz -dc "$src" >"$dst" ;;
	*.ko.zst) zstd -qdc "$src" >"$dst" ;;
	*.ko.gz) gzip -dc "$src" >"$dst" ;;
	*) cp "$src" "$dst" ;;
	esac
}

guest_modules() {
	local mod
	for mod in $GUEST_MODULES; do
		modprobe -S "$KVER" --show-depends "$mod" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

build_initramfs() {
	local root="$WORK/initramfs" path name arg
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/modules"
	cp /bin/busybox "$root/bin/busybox"
	cp "$HERE/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	cp "$WORK/kmod/lainko.ko" "$root/lainko.ko"
	: >"$root/modules.list"
	for path in $(guest_modules); do
		name="$(basename "$path")"
		name="${name%.xz}"; name="${name%.zst}"; name="${name%.gz}"
		add_module "$path" "$root/modules/$name"
		echo "$name" >>"$root/modules.list"
	done
	{
		echo "LAINKO_PROJ='$PROJ'"
		echo "LAINKO_PYTHON='$PYTHON'"
		echo "LAINKO_KO='$WORK/kmod/lainko.ko'"
		echo "LAINKO_MARKER='$MARKER'"
	} >"$root/harness.env"
	: >"$root/pytest.args"
	for arg in "$@"; do
		printf '%s\n' "$arg" >>"$root/pytest.args"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$WORK/initramfs.gz"
}

run_vm() {
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m 2048 \
		-kernel "/boot/vmlinuz-$KVER" -initrd "$WORK/initramfs.gz" \
		-append "console=ttyS0 quiet oops=panic panic=-1 panic_on_warn=1" \
		-no-reboot -nic none -display none -monitor none -serial stdio \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$PROJ,mount_tag=project,security_model=none,multidevs=remap" \
		</dev/null
}

main() {
	local start=$SECONDS rc
	case "$PROJ" in *"'"* | *" "*) die "project path must not contain quotes or spaces: $PROJ" ;; esac
	ensure_packages
	[ -x "$PYTHON" ] || die "no interpreter at $PYTHON (create .venv with pytest first)"
	KVER="$(pick_kernel)"
	MARKER="$WORK/result"
	mkdir -p "$WORK"
	rm -f "$MARKER"

	log "building lainko.ko against $KVER"
	build_module
	[ $# -eq 0 ] && set -- tests
	build_initramfs -p no:cacheprovider -rs -m device "$@"
	log "booting $KVER under TCG (timeout ${TIMEOUT}s)"
	rc=0
	run_vm || rc=$?
	[ "$rc" -eq 124 ] && log "the VM timed out"
	if [ ! -s "$MARKER" ]; then
		log "FAILED: the guest left no exit status (qemu exit $rc) after $((SECONDS - start))s"
		exit 1
	fi
	rc="$(cat "$MARKER")"
	log "guest pytest exit status $rc after $((SECONDS - start))s"
	exit "$rc"
}

main "$@"
