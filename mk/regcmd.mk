# SPDX-License-Identifier: MIT
# Matmul regcmd generator (kernel pure C, built here through lib/kcompat),
# NPU data layout helpers, their tests and the generation benchmark.
LIB_SRCS += kernel/drivers/accel/rocket/rocket_regcmd.c lib/npu_layout.c
TEST_PROGS += test_regcmd
TOOLS += bench-regcmd
CHECK_CMDS += "tests/regcmd_freestanding.sh"

# The kernel-side file includes <linux/*.h>: give it (and the programs that
# include rocket_regcmd.h) the userspace stand-ins, and nobody else.
REGCMD_KCOMPAT := -Ilib/kcompat
$(BUILD)/obj/kernel/drivers/accel/rocket/%.o: CFLAGS += $(REGCMD_KCOMPAT)
$(BUILD)/obj/tests/test_regcmd.o: CFLAGS += $(REGCMD_KCOMPAT)
$(BUILD)/obj/tests/test_regcmd_sim.o: CFLAGS += $(REGCMD_KCOMPAT)
$(BUILD)/obj/tools/bench-regcmd.o: CFLAGS += $(REGCMD_KCOMPAT)

# Property tests against the independent simulator (lib/npu_sim*.c). The
# simulator objects are linked here unless some fragment already puts them
# in the library (the recipe is expanded after every fragment is read).
REGCMD_SIM_SRCS := $(wildcard lib/npu_sim.c lib/npu_sim_regs.c)
REGCMD_SIM_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(REGCMD_SIM_SRCS))
ifneq ($(REGCMD_SIM_SRCS),)
TEST_PROGS += test_regcmd_sim
$(BUILD)/tests/test_regcmd_sim: $(BUILD)/obj/tests/test_regcmd_sim.o $(REGCMD_SIM_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(filter-out $(LIB_OBJS),$(REGCMD_SIM_OBJS)) $(LIB) $(LDLIBS)
endif

.PHONY: bench-regcmd
bench-regcmd: $(BUILD)/bench-regcmd
	$(BUILD)/bench-regcmd
