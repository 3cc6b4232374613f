# SPDX-License-Identifier: MIT
# Emulated rocket device (librocket-shim.so, LD_PRELOAD, see docs/emulator.md)
# and the rocket kselftests (selftests/drivers/accel/rocket/), run against it.
#
# Kernel headers (uapi drm.h, kselftest_harness.h) come from Debian's
# linux-source-7.3, extracted into .deps/kheaders/ by lib/accel_shim/kheaders.sh.
SHIM_KHDR := .deps/kheaders
SHIM_KHDR_STAMP := $(SHIM_KHDR)/stamp
SHIM_SO := $(BUILD)/librocket-shim.so
SHIM_ST_DIR := selftests/drivers/accel/rocket
SHIM_ST_PROGS := rocket_uapi_test
SHIM_ST_BINS = $(addprefix $(BUILD)/selftests/,$(SHIM_ST_PROGS))

# Our uAPI header when it exists (adds SUBMIT_MATMUL), else upstream's.
SHIM_UAPI_INC := $(if $(wildcard kernel/include/uapi/drm/rocket_accel.h),-Ikernel/include/uapi) \
	-I$(SHIM_KHDR)/include/uapi -I$(SHIM_KHDR)/include/uapi/drm

SHIM_SRCS := lib/accel_shim/shim.c lib/npu_sim.c lib/npu_sim_regs.c
SHIM_KSRCS :=
SHIM_DEFS :=
ifneq ($(wildcard lib/accel_shim/shim_matmul.c kernel/drivers/accel/rocket/rocket_matmul.c kernel/include/uapi/drm/rocket_accel.h),)
ifeq ($(words $(wildcard lib/accel_shim/shim_matmul.c kernel/drivers/accel/rocket/rocket_matmul.c kernel/include/uapi/drm/rocket_accel.h)),3)
SHIM_SRCS += lib/accel_shim/shim_matmul.c
SHIM_KSRCS += kernel/drivers/accel/rocket/rocket_matmul.c kernel/drivers/accel/rocket/rocket_regcmd.c
SHIM_DEFS += -DSHIM_HAVE_MATMUL
SHIM_ST_PROGS += rocket_matmul_test
endif
endif
SHIM_OBJS := $(patsubst %.c,$(BUILD)/obj-pic/%.o,$(SHIM_SRCS) $(SHIM_KSRCS))

# Rebuild the shim when SUBMIT_MATMUL support appears or goes.
SHIM_DEFS_STAMP := $(BUILD)/obj-pic/defs.stamp
$(shell mkdir -p $(BUILD)/obj-pic; [ "$$(cat $(SHIM_DEFS_STAMP) 2>/dev/null)" = "$(SHIM_DEFS)." ] || echo "$(SHIM_DEFS)." > $(SHIM_DEFS_STAMP))
$(SHIM_OBJS): $(SHIM_DEFS_STAMP)

SHIM_CFLAGS = $(CFLAGS) -fPIC -fvisibility=hidden -U_FORTIFY_SOURCE $(SHIM_DEFS)

$(SHIM_KHDR_STAMP): lib/accel_shim/kheaders.sh
	@lib/accel_shim/kheaders.sh $(SHIM_KHDR)

$(BUILD)/obj-pic/lib/%.o: lib/%.c | $(SHIM_KHDR_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) $(SHIM_UAPI_INC) -MMD -MP -c $< -o $@

# The kernel's own sources, unchanged, through the userspace stand-ins.
$(BUILD)/obj-pic/kernel/%.o: kernel/%.c | $(SHIM_KHDR_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -Ilib/kcompat $(SHIM_UAPI_INC) -MMD -MP -c $< -o $@

$(BUILD)/obj-pic/lib/accel_shim/shim_matmul.o: SHIM_CFLAGS += -Ilib/kcompat

$(SHIM_SO): $(SHIM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -Wl,-z,defs -o $@ $^ -ldl -lpthread -lm

# kselftests: kernel style (gnu11, the harness's macros), our warning bar.
SHIM_ST_CFLAGS = -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers -D_GNU_SOURCE \
	$(SHIM_UAPI_INC) -I$(SHIM_KHDR)/tools/testing/selftests
ifeq ($(SAN),1)
SHIM_ST_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif

$(BUILD)/selftests/%: $(SHIM_ST_DIR)/%.c $(wildcard $(SHIM_ST_DIR)/*.h) | $(SHIM_KHDR_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_ST_CFLAGS) -o $@ $< $(LDFLAGS) -lpthread -lm

all: $(SHIM_SO) $(SHIM_ST_BINS)
CHECK_CMDS += "lib/accel_shim/run-selftests.sh $(SHIM_ST_PROGS)"
# The same suites against the emulated unpatched upstream driver (0.0): the
# series' cases must SKIP there (feature gating), upstream's must pass.
CHECK_CMDS += "lib/accel_shim/run-upstream.sh $(SHIM_ST_PROGS)"
# The arm64 build under qemu-aarch64 (native runs only; ~1 min).
ifneq ($(SAN),1)
CHECK_CMDS += "lib/accel_shim/run-arm64.sh $(SHIM_ST_PROGS)"
# ... and the emulator plus the suites under ASan+UBSan.
CHECK_CMDS += "lib/accel_shim/run-asan.sh $(SHIM_ST_PROGS)"
endif

.PHONY: shim
shim: $(SHIM_SO) $(SHIM_ST_BINS)

-include $(SHIM_OBJS:.o=.d)
