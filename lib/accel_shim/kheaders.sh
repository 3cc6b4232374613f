#!/bin/bash
# SPDX-License-Identifier: MIT
# Extract the few kernel files the emulated device and the kselftests build
# against from Debian's linux-source-7.3 package into .deps/kheaders/ (not
# committed): include/uapi/drm/{drm,drm_mode,rocket_accel}.h and
# tools/testing/selftests/{kselftest_harness,kselftest}.h (GPL-2.0, used
# unchanged, only at build time). See docs/emulator.md.
# Usage: lib/accel_shim/kheaders.sh OUTDIR
set -euo pipefail
out=${1:-.deps/kheaders}
pkg=linux-source-7.3
stamp="$out/stamp"
[ -f "$stamp" ] && exit 0
debdir=.deps/kdeb
mkdir -p "$debdir" "$out"
deb=$(ls "$debdir"/${pkg}_*_all.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
	scripts/apt-kernel-src.sh
	echo "kheaders: apt-get download $pkg"
	(cd "$debdir" && apt-get download "$pkg" >download.log 2>&1) ||
		{ echo "kheaders: apt-get download $pkg failed, see $debdir/download.log" >&2; exit 1; }
	deb=$(ls "$debdir"/${pkg}_*_all.deb | head -1)
fi
tmp="$out.tmp"
rm -rf "$tmp" && mkdir -p "$tmp"
files="include/uapi/drm/drm.h include/uapi/drm/drm_mode.h include/uapi/drm/rocket_accel.h
include/uapi/linux/bits.h include/uapi/linux/const.h
tools/testing/selftests/kselftest_harness.h tools/testing/selftests/kselftest.h"
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/src/$pkg.tar.xz |
	tar -xJ -C "$tmp" --strip-components=1 $(for f in $files; do echo "$pkg/$f"; done)
for f in $files; do
	mkdir -p "$out/$(dirname "$f")"
	mv "$tmp/$f" "$out/$f"
done
# What headers_install does to uapi headers: drop the sparse annotations.
for f in $files; do
	case $f in include/uapi/*)
		sed -i -E 's/\b__user\b//g; s/\b__force\b//g; s/\b__iomem\b//g' "$out/$f" ;;
	esac
done
rm -rf "$tmp"
basename "$deb" >"$stamp"
echo "kheaders: $(cat "$stamp") -> $out"
