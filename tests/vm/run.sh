#!/usr/bin/env bash
# Boot the installed Debian kernels in QEMU (TCG), load a freshly built
# lainko.ko and run the project's device-marked tests against the real
# /dev/lainmemu and /dev/lainkmem, once per kernel.
#
#   bash tests/vm/run.sh [PYTEST ARGS...]
#
# The kernels: Debian 12's default (6.1) and bookworm-backports' (6.12),
# installed side by side (the backports suite is added to apt's sources
# when missing). lainko is built with DKMS against both kernels' headers,
# and the DKMS-built module is the one loaded in the newest kernel's run;
# the other run loads the module built here with kbuild. Each run also
# loads lainko_selftest.ko (the tests' fixtures: make LAINKO_SELFTEST=1).
#
# Extra arguments go to pytest after "-m device" and replace the default
# selection, the whole tests/ directory (paths are relative to the
# project). The exit status is 0 when pytest passed in every guest; a
# guest that dies before writing its status (oops, panic, timeout) fails.
#
# Environment:
#   LAINKO_VM_PYTHON   interpreter inside the guest (default .venv/bin/python)
#   LAINKO_VM_TIMEOUT  seconds for each VM run (default 1800)
#   LAINKO_VM_KVERS    kernel versions to boot, space-separated (default: the
#                      newest installed of each major.minor that has headers)
#   LAINKO_VM_DKMS_KVER  the kernel whose run loads the DKMS-built module
#                      (default: the newest booted; "none": no DKMS)
#   LAINKO_VM_BACKPORTS  0: do not install the backports kernel
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PROJ="$(cd "$HERE/../.." && pwd)"
WORK="$HERE/.work"
PYTHON="${LAINKO_VM_PYTHON:-$PROJ/.venv/bin/python}"
TIMEOUT="${LAINKO_VM_TIMEOUT:-1800}"
DEBS="qemu-system-x86 linux-image-amd64 linux-headers-amd64 busybox-static kmod cpio make gcc dkms xz-utils"
BACKPORTS="bookworm-backports"
BACKPORTS_SOURCES="/etc/apt/sources.list.d/lainview-$BACKPORTS.sources"
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

# The backports kernel image and headers, beside the default ones.
ensure_backports_kernel() {
	local image headers
	[ "${LAINKO_VM_BACKPORTS:-1}" = 0 ] && return 0
	if ! apt-cache policy | grep -q " $BACKPORTS/main "; then
		log "adding $BACKPORTS to apt's sources ($BACKPORTS_SOURCES)"
		printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" \
			"Suites: $BACKPORTS" "Components: main" \
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" \
			>"$BACKPORTS_SOURCES"
		apt-get update -qq
	fi
	image="$(apt-cache -o APT::Default-Release="$BACKPORTS" depends linux-image-amd64 |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')"
	[ -n "$image" ] || die "no linux-image-amd64 in $BACKPORTS"
	headers="${image/linux-image-/linux-headers-}"
	if dpkg-query -W -f='${Status}\n' "$image" "$headers" 2>/dev/null |
		grep -c "install ok installed" | grep -qx 2; then
		return 0
	fi
	log "installing $image $headers from $BACKPORTS"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"$image/$BACKPORTS" "$headers/$BACKPORTS" >/dev/null
}

# The kernels to boot: the newest installed of each major.minor that has
# headers to build against and an image to boot.
pick_kernels() {
	local v series seen=" "
	if [ -n "${LAINKO_VM_KVERS:-}" ]; then
		echo "$LAINKO_VM_KVERS"
		return
	fi
	for v in $(ls -1 /lib/modules | sort -rV); do
		[ -f "/usr/src/linux-headers-$v/Makefile" ] && [ -f "/boot/vmlinuz-$v" ] || continue
		series="$(echo "$v" | cut -d. -f1-2)"
		case "$seen" in *" $series "*) continue ;; esac
		seen="$seen$series "
		echo "$v"
	done | sort -V | xargs
}

# DKMS, in a tree of its own under $WORK (nothing in /usr/src or
# /var/lib/dkms): add the module and build it for every kernel.
dkms_build() {
	local kver src="$WORK/dkms/src" tree="$WORK/dkms/tree"
	DKMS_VERSION="$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$PROJ/kmod/dkms.conf")"
	rm -rf "$WORK/dkms"
	mkdir -p "$src/lainko-$DKMS_VERSION" "$tree"
	cp -r "$PROJ"/kmod/*.[ch] "$PROJ/kmod/uapi" "$PROJ/kmod/Kbuild" "$PROJ/kmod/Makefile" \
		"$PROJ/kmod/dkms.conf" "$src/lainko-$DKMS_VERSION/"
	DKMS="dkms --sourcetree $src --dkmstree $tree"
	$DKMS add -m lainko -v "$DKMS_VERSION" >"$WORK/dkms.log" 2>&1 ||
		{ cat "$WORK/dkms.log" >&2; die "dkms add failed"; }
	for kver in $KVERS; do
		log "dkms build lainko/$DKMS_VERSION -k $kver"
		$DKMS build -m lainko -v "$DKMS_VERSION" -k "$kver" >>"$WORK/dkms.log" 2>&1 || {
			cat "$WORK/dkms.log" >&2
			cat "$tree/lainko/$DKMS_VERSION/build/make.log" >&2 2>/dev/null
			die "dkms build for $kver failed"
		}
	done
}

# The module DKMS built for $KVER.
dkms_module() {
	find "$WORK/dkms/tree/lainko/$DKMS_VERSION/$KVER" -name 'lainko.ko*' | head -n 1
}

build_module() {
	rm -rf "$RUN/kmod"
	mkdir -p "$RUN/kmod"
	cp -r "$PROJ"/kmod/*.[ch] "$PROJ/kmod/uapi" "$PROJ/kmod/Kbuild" "$RUN/kmod/"
	make -s -C "/usr/src/linux-headers-$KVER" M="$RUN/kmod" LAINKO_SELFTEST=1 modules \
		>"$RUN/build.log" 2>&1 || { cat "$RUN/build.log" >&2; die "module build failed"; }
	grep -i "warning" "$RUN/build.log" >&2 || true
	# struct uts_namespace's layout by gcc against these headers, for the
	# guest's BTF test (built here: kbuild under TCG takes many minutes).
	mkdir -p "$RUN/offsets"
	cp "$HERE/uts_offsets.c" "$RUN/offsets/"
	echo 'obj-m := uts_offsets.o' >"$RUN/offsets/Kbuild"
	make -s -C "/usr/src/linux-headers-$KVER" M="$RUN/offsets" uts_offsets.o \
		>>"$RUN/build.log" 2>&1 || { cat "$RUN/build.log" >&2; die "uts_offsets.o build failed"; }
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
		modprobe -S "$KVER" --show-depends "$mod" 2>/dev/null | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++'
}

build_initramfs() {
	local root="$RUN/initramfs" path name arg
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/modules"
	cp /bin/busybox "$root/bin/busybox"
	cp "$HERE/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	cp "$KO" "$root/lainko.ko"
	cp "$RUN/kmod/lainko_selftest.ko" "$root/lainko_selftest.ko"
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
		echo "LAINKO_KO='$KO'"
		echo "LAINKO_RUN='$RUN'"
		echo "LAINKO_MARKER='$MARKER'"
	} >"$root/harness.env"
	: >"$root/pytest.args"
	for arg in "$@"; do
		printf '%s\n' "$arg" >>"$root/pytest.args"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$RUN/initramfs.gz"
}

run_vm() {
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
		-accel tcg -cpu max -smp 2 -m 2048 \
		-kernel "/boot/vmlinuz-$KVER" -initrd "$RUN/initramfs.gz" \
		-append "console=ttyS0 quiet oops=panic panic=-1 panic_on_warn=1" \
		-no-reboot -nic none -display none -monitor none -serial stdio \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$PROJ,mount_tag=project,security_model=none,multidevs=remap" \
		</dev/null
}

# One kernel: build, pick the module (DKMS or kbuild), boot, collect.
run_kernel() {
	local start=$SECONDS rc source
	RUN="$WORK/$KVER"
	MARKER="$RUN/result"
	rm -rf "$RUN"
	mkdir -p "$RUN"
	log "$KVER: building lainko.ko and lainko_selftest.ko with kbuild"
	build_module
	KO="$RUN/kmod/lainko.ko"
	source="kbuild"
	if [ "$KVER" = "$DKMS_KVER" ]; then
		add_module "$(dkms_module)" "$RUN/lainko-dkms.ko"
		KO="$RUN/lainko-dkms.ko"
		source="DKMS"
	fi
	build_initramfs "$@"
	log "$KVER: booting under TCG with the $source-built lainko.ko (timeout ${TIMEOUT}s)"
	rc=0
	run_vm || rc=$?
	[ "$rc" -eq 124 ] && log "$KVER: the VM timed out"
	if [ ! -s "$MARKER" ]; then
		log "$KVER: FAILED: the guest left no exit status (qemu exit $rc) after $((SECONDS - start))s"
		return 1
	fi
	rc="$(cat "$MARKER")"
	log "$KVER ($source module): guest pytest exit status $rc after $((SECONDS - start))s"
	return "$rc"
}

main() {
	local start=$SECONDS failed=0 summary="" files
	case "$PROJ" in *"'"* | *" "*) die "project path must not contain quotes or spaces: $PROJ" ;; esac
	ensure_packages
	ensure_backports_kernel
	[ -x "$PYTHON" ] || die "no interpreter at $PYTHON (create .venv with pytest first)"
	KVERS="$(pick_kernels)"
	[ -n "$KVERS" ] || die "no kernel in /lib/modules with matching /usr/src/linux-headers-*"
	DKMS_KVER="${LAINKO_VM_DKMS_KVER:-${KVERS##* }}"
	mkdir -p "$WORK"
	log "kernels: $KVERS; DKMS-built module in the $DKMS_KVER run"
	[ "$DKMS_KVER" = none ] || dkms_build

	if [ $# -eq 0 ]; then
		# Every device-marked test, but collected here: the guest then
		# imports only the files that hold them (collecting all of tests/
		# takes minutes under TCG).
		mapfile -t files < <(cd "$PROJ" && "$PYTHON" -m pytest --collect-only -q \
			-p no:cacheprovider -m device tests 2>/dev/null | sed -n 's/::.*//p' | sort -u)
		[ ${#files[@]} -gt 0 ] || die "no device-marked tests collected on the host"
		log "device tests in: ${files[*]}"
		set -- "${files[@]}"
	fi
	for KVER in $KVERS; do
		if run_kernel -p no:cacheprovider -rs -m device "$@"; then
			summary="$summary $KVER:passed"
		else
			summary="$summary $KVER:FAILED"
			failed=1
		fi
	done
	log "summary:$summary ($((SECONDS - start))s in all)"
	exit "$failed"
}

main "$@"
