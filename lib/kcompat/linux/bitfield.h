/* SPDX-License-Identifier: MIT */
/*
 * Userspace stand-in for the kernel's <linux/bitfield.h>: FIELD_PREP,
 * FIELD_GET, FIELD_FIT, FIELD_MAX for a contiguous non-zero mask. Like the
 * kernel's they are statement expressions, so using them in a static
 * initializer fails here too (the kernel has FIELD_PREP_CONST for that).
 * The kernel version also rejects non-constant masks at build time; callers
 * pass GENMASK()/BIT() constants only, which the in-tree build checks.
 */
#ifndef ROSENBLATT_KCOMPAT_LINUX_BITFIELD_H
#define ROSENBLATT_KCOMPAT_LINUX_BITFIELD_H

#include <linux/bits.h>

#define __bf_shf(x) __builtin_ctzll((unsigned long long)(x))

#define FIELD_MAX(_mask) \
	({ (__typeof__(_mask))((_mask) >> __bf_shf(_mask)); })
#define FIELD_FIT(_mask, _val) \
	({ !((((__typeof__(_mask))(_val)) << __bf_shf(_mask)) & ~(_mask)); })
#define FIELD_PREP(_mask, _val) \
	({ (((__typeof__(_mask))(_val)) << __bf_shf(_mask)) & (_mask); })
#define FIELD_GET(_mask, _reg) \
	({ (__typeof__(_mask))(((_reg) & (_mask)) >> __bf_shf(_mask)); })

#endif
