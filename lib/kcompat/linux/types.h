/* SPDX-License-Identifier: MIT */
/*
 * Userspace stand-in for the kernel's <linux/types.h>, just enough for the
 * pure-C files under kernel/drivers/accel/rocket/ (rocket_regcmd.c).
 *
 * Hosted builds first pull in the real uapi <linux/types.h> (so glibc and
 * uapi headers that include it keep working while lib/kcompat is on the
 * include path) and then add the kernel-internal short names. Freestanding
 * builds (-ffreestanding -nostdinc) get everything from compiler builtins.
 */
#ifndef ROSENBLATT_KCOMPAT_LINUX_TYPES_H
#define ROSENBLATT_KCOMPAT_LINUX_TYPES_H

#if __STDC_HOSTED__ && defined(__has_include_next)
#if __has_include_next(<linux/types.h>)
#include_next <linux/types.h>
#define KCOMPAT_HAVE_UAPI_TYPES 1
#endif
#endif

#ifndef KCOMPAT_HAVE_UAPI_TYPES
typedef signed char __s8;
typedef unsigned char __u8;
typedef short __s16;
typedef unsigned short __u16;
typedef int __s32;
typedef unsigned int __u32;
typedef long long __s64;
typedef unsigned long long __u64;
#endif

typedef __s8 s8;
typedef __u8 u8;
typedef __s16 s16;
typedef __u16 u16;
typedef __s32 s32;
typedef __u32 u32;
typedef __s64 s64;
typedef __u64 u64;

typedef __SIZE_TYPE__ size_t;

#if !defined(__cplusplus) && !defined(__bool_true_false_are_defined)
typedef _Bool bool;
#define true 1
#define false 0
#endif

#ifndef NULL
#define NULL ((void *)0)
#endif

#endif
