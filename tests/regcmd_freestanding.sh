#!/bin/bash
# SPDX-License-Identifier: MIT
# Build kernel/drivers/accel/rocket/rocket_regcmd.c the way the kernel sees
# it: freestanding, no system headers (only lib/kcompat stand-ins), no FPU
# registers, and check it calls nothing but what the kernel provides.
# Prints TAP.
cd "$(dirname "$0")/.." || exit 1
CC=${CC:-gcc}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
n=0 fail=0
tap() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi; }

flags="-std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdinc -fno-builtin
       -fno-common -fno-pic -fno-pie -fno-strict-aliasing
       -Wdeclaration-after-statement -Wvla -Wmissing-prototypes -Wstrict-prototypes -Wshadow
       -Wframe-larger-than=2048 -Ilib/kcompat -Ikernel/drivers/accel/rocket"
case "$(uname -m)" in
x86_64) nofpu="-mno-sse -mno-mmx -mno-sse2 -mno-avx -mno-80387 -mno-fp-ret-in-387 -mcmodel=kernel" ;;
aarch64) nofpu="-mgeneral-regs-only" ;;
*) nofpu="" ;;
esac

$CC $flags $nofpu -c kernel/drivers/accel/rocket/rocket_regcmd.c -o "$out/r.o" 2>"$out/err"
rc=$?
[ $rc = 0 ] || sed 's/^/# /' "$out/err"
tap $rc "rocket_regcmd.c builds freestanding, -nostdinc, no FPU ($nofpu)"

# Only memset/memcpy may be called (the compiler may emit them; the kernel has them).
undef=$(nm -u "$out/r.o" 2>/dev/null | awk '{print $2}' | grep -vE '^(memset|memcpy)$' | tr '\n' ' ')
[ -f "$out/r.o" ] && [ -z "$undef" ]
rc=$?
[ $rc = 0 ] || echo "# undefined symbols: $undef"
tap $rc "no external symbols beyond memset/memcpy"

# Kernel headers only; no libc or float types in the source.
bad=$(grep -nE '#include <(std|string|math|assert|limits)|\b(float|double)\b' \
	kernel/drivers/accel/rocket/rocket_regcmd.c kernel/drivers/accel/rocket/rocket_regcmd.h \
	kernel/drivers/accel/rocket/rocket_regcmd_regs.h)
[ -z "$bad" ]
rc=$?
[ $rc = 0 ] || echo "# $bad"
tap $rc "no libc headers or floating point types"

# Also -std=c11 strict (the userspace build) with -Wpedantic off, and -m32 if available.
if echo 'int x;' | $CC -m32 -x c -c -o /dev/null - 2>/dev/null; then
	$CC $flags -m32 -c kernel/drivers/accel/rocket/rocket_regcmd.c -o "$out/r32.o" 2>"$out/err32"
	rc=$?
	[ $rc = 0 ] || sed 's/^/# /' "$out/err32"
	tap $rc "builds for a 32-bit target (-m32)"
else
	n=$((n + 1)); echo "ok $n - builds for a 32-bit target # SKIP no -m32 support"
fi
echo "1..$n"
exit $fail
