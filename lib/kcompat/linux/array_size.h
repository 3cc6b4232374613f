/* SPDX-License-Identifier: MIT */
/*
 * Userspace stand-in for the kernel's <linux/array_size.h>: ARRAY_SIZE,
 * which, like the kernel's, refuses to build for a pointer (only GCC and
 * clang are supported, as in the kernel).
 */
#ifndef ROSENBLATT_KCOMPAT_LINUX_ARRAY_SIZE_H
#define ROSENBLATT_KCOMPAT_LINUX_ARRAY_SIZE_H

/* 0 for an array; a negative-width bit-field (build error) for a pointer. */
#define __must_be_array(a) \
	((int)(sizeof(struct { int:(-!!__builtin_types_compatible_p( \
		__typeof__(a), __typeof__(&(a)[0]))); })))

#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]) + __must_be_array(arr))

#endif
