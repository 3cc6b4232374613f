/* SPDX-License-Identifier: MIT */
/*
 * Userspace stand-in for the uapi "drm.h" that <drm/rocket_accel.h>
 * includes with quotes: the ioctl number macros and the version ioctl, with
 * the values of include/uapi/drm/drm.h. Found through -iquote lib/kcompat/linux
 * (the machine has no libdrm headers); the real header works as well.
 */
#ifndef ROSENBLATT_KCOMPAT_DRM_H
#define ROSENBLATT_KCOMPAT_DRM_H

#if defined(__linux__) && __STDC_HOSTED__
#include <linux/ioctl.h>
#include <linux/types.h>
#else
#include <linux/types.h>
#define _IOC(dir, type, nr, size) \
	(((dir) << 30) | ((type) << 8) | (nr) | ((size) << 16))
#define _IO(type, nr)		_IOC(0U, (type), (nr), 0)
#define _IOR(type, nr, t)	_IOC(2U, (type), (nr), sizeof(t))
#define _IOW(type, nr, t)	_IOC(1U, (type), (nr), sizeof(t))
#define _IOWR(type, nr, t)	_IOC(3U, (type), (nr), sizeof(t))
#endif

#define DRM_IOCTL_BASE		'd'
#define DRM_IO(nr)		_IO(DRM_IOCTL_BASE, nr)
#define DRM_IOR(nr, type)	_IOR(DRM_IOCTL_BASE, nr, type)
#define DRM_IOW(nr, type)	_IOW(DRM_IOCTL_BASE, nr, type)
#define DRM_IOWR(nr, type)	_IOWR(DRM_IOCTL_BASE, nr, type)

#define DRM_COMMAND_BASE	0x40
#define DRM_COMMAND_END		0xA0

struct drm_version {
	int version_major;
	int version_minor;
	int version_patchlevel;
	__kernel_size_t name_len;
	char *name;
	__kernel_size_t date_len;
	char *date;
	__kernel_size_t desc_len;
	char *desc;
};

#define DRM_IOCTL_VERSION	DRM_IOWR(0x00, struct drm_version)

#endif
