/* SPDX-License-Identifier: MIT */
/* Userspace stand-in for the kernel's <linux/overflow.h> (checked maths). */
#ifndef ROSENBLATT_KCOMPAT_LINUX_OVERFLOW_H
#define ROSENBLATT_KCOMPAT_LINUX_OVERFLOW_H

#include <linux/types.h>

#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)
#define check_mul_overflow(a, b, d)	__builtin_mul_overflow(a, b, d)

#endif
