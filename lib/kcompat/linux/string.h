/* SPDX-License-Identifier: MIT */
/*
 * Userspace stand-in for the kernel's <linux/string.h>: memset, memcpy,
 * memcmp. Hosted builds take the C library's; freestanding builds the
 * compiler builtins (which may still emit calls to these functions).
 */
#ifndef ROSENBLATT_KCOMPAT_LINUX_STRING_H
#define ROSENBLATT_KCOMPAT_LINUX_STRING_H

#if __STDC_HOSTED__
#include <string.h>
#else
#define memset(d, c, n)		__builtin_memset(d, c, n)
#define memcpy(d, s, n)		__builtin_memcpy(d, s, n)
#define memcmp(a, b, n)		__builtin_memcmp(a, b, n)
#endif

#endif
