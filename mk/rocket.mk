# SPDX-License-Identifier: MIT
# DRM_IOCTL_ROCKET_SUBMIT_MATMUL: the kernel-side validation and job building
# (kernel/drivers/accel/rocket/rocket_matmul.c, pure C) built here through
# lib/kcompat for the unit test, and `make kernel-patches` regenerating the
# git format-patch series in kernel/patches/rocket/ (docs/kernel.md).
LIB_SRCS += kernel/drivers/accel/rocket/rocket_matmul.c
TEST_PROGS += test_rocket_matmul

# Our copy of the uAPI header (kernel/include/uapi/drm/rocket_accel.h) and a
# stand-in for the "drm.h" it includes (no libdrm headers needed).
ROCKET_UAPI_CFLAGS := -Ilib/kcompat -iquote lib/kcompat/linux -Ikernel/include/uapi
$(BUILD)/obj/kernel/drivers/accel/rocket/rocket_matmul.o: CFLAGS += $(ROCKET_UAPI_CFLAGS)
$(BUILD)/obj/tests/test_rocket_matmul.o: CFLAGS += $(ROCKET_UAPI_CFLAGS)

.PHONY: kernel-patches
kernel-patches:
	@kernel/patches/rocket/make-series.sh

# Apply the series to 7.3 and 7.2 trees, build after each patch (arm64 W=1,
# x86_64 COMPILE_TEST), checkpatch, KUnit under qemu. Needs the kernel trees
# of shared/docs/kernel-recipe.md (ROCKET_KBUILD); not part of `make check`.
.PHONY: kernel-check
kernel-check:
	@kernel/patches/rocket/check-series.sh
