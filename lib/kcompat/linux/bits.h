/* SPDX-License-Identifier: MIT */
/* Userspace stand-in for the kernel's <linux/bits.h>. */
#ifndef ROSENBLATT_KCOMPAT_LINUX_BITS_H
#define ROSENBLATT_KCOMPAT_LINUX_BITS_H

#include <linux/types.h>

#define BIT(nr)			(1UL << (nr))
#define BIT_ULL(nr)		(1ULL << (nr))
/* Contiguous mask from bit l up to bit h (inclusive), h >= l. */
#define GENMASK(h, l) \
	((~0UL >> (8 * sizeof(unsigned long) - 1 - (h))) & (~0UL << (l)))
#define GENMASK_ULL(h, l) \
	((~0ULL >> (8 * sizeof(unsigned long long) - 1 - (h))) & (~0ULL << (l)))

#endif
