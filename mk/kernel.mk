# SPDX-License-Identifier: MIT
# Kernel work (not part of `make check`; see docs/iommu.md, docs/boltzmann.md).
#   make kernel                 patched arm64 kernel + modules + ROCK 5 ITX dtb/overlay
#                               for boltzmann (KVER=7.3|7.2, KERNEL_PROFILE=board|qemu)
#   make kernel-patches-iommu   git am on 7.3/7.2, checkpatch --strict, W=1 arm64/x86_64
#   make kernel-kunit           boot the qemu profile on qemu-system-aarch64, run KUnit
#   make kernel-dtcheck         DT schema checks (dt-schema): dt_binding_check of our
#                               binding, CHECK_DTBS of the board dtb, the overlay applied
# Caches live in $KERNEL_WORK (default /work/kbuild, else ~/.cache/rosenblatt-kernel).
.PHONY: kernel kernel-patches-iommu kernel-kunit kernel-dtcheck
kernel:
	@scripts/kernel/build.sh
kernel-patches-iommu:
	@scripts/kernel/patches.sh
kernel-kunit:
	@scripts/kernel/kunit.sh
kernel-dtcheck:
	@scripts/kernel/dt-schema.sh

# KUnit in the patched arm64 kernel under qemu, as part of `make check`
# (cold: downloads and builds the kernel once; warm: ~30 s).
CHECK_CMDS += "tests/kernel_kunit_test.sh"
