/* SPDX-License-Identifier: MIT */
/* Userspace stand-in for the kernel's <linux/build_bug.h>: static_assert. */
#ifndef ROSENBLATT_KCOMPAT_LINUX_BUILD_BUG_H
#define ROSENBLATT_KCOMPAT_LINUX_BUILD_BUG_H

#ifndef static_assert
#define static_assert(expr, ...) __static_assert(expr, ##__VA_ARGS__, #expr)
#define __static_assert(expr, msg, ...) _Static_assert(expr, msg)
#endif

#endif
