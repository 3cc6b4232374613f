/* SPDX-License-Identifier: MIT */
/*
 * Userspace stand-in for the kernel's <linux/errno.h>. Hosted builds use the
 * real uapi header (glibc's <errno.h> includes <linux/errno.h>, and it must
 * keep getting the complete list); freestanding builds get the few codes the
 * rocket pure-C files return, with the Linux numbers.
 */
#ifndef ROSENBLATT_KCOMPAT_LINUX_ERRNO_H
#define ROSENBLATT_KCOMPAT_LINUX_ERRNO_H

#if __STDC_HOSTED__ && defined(__has_include_next)
#if __has_include_next(<linux/errno.h>)
#include_next <linux/errno.h>
#endif
#endif

#ifndef E2BIG
#define E2BIG		7
#endif
#ifndef EINVAL
#define EINVAL		22
#endif
#ifndef ENOSPC
#define ENOSPC		28
#endif
#ifndef ERANGE
#define ERANGE		34
#endif
#ifndef EOVERFLOW
#define EOVERFLOW	75
#endif

#endif
