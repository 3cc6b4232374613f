# SPDX-License-Identifier: MIT
# Rosenblatt top-level build. `make` builds the userspace into build/,
# `make check` runs every test, `make demo` runs the main job.
# Each concern adds its sources, tools and tests in mk/*.mk.

CC ?= gcc
BUILD ?= build
SAN ?=
OPT ?= -O2

CFLAGS_COMMON := -std=c11 $(OPT) -g -Wall -Wextra -Werror -D_GNU_SOURCE \
	-Ilib -Ikernel/drivers/accel/rocket -Itests
ifeq ($(SAN),1)
CFLAGS_COMMON += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif
CFLAGS += $(CFLAGS_COMMON)
LDLIBS += -lm -lpthread

.DEFAULT_GOAL := all

# Filled by mk/*.mk
LIB_SRCS :=
TOOLS :=
TEST_PROGS :=
TEST_HELPERS :=
CHECK_CMDS :=
CHECK_PREREQS :=
DEMO_PREREQS :=

LIB_SRCS += lib/ggml_types.c lib/gguf.c

# Defined before the fragments so they can name it as a prerequisite.
LIB := $(BUILD)/librosenblatt.a

include $(sort $(wildcard mk/*.mk))

LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
TOOL_BINS := $(addprefix $(BUILD)/,$(TOOLS))
TEST_BINS := $(addprefix $(BUILD)/tests/,$(TEST_PROGS) $(TEST_HELPERS))

# Keep objects of tools and tests (make would delete them as intermediates).
.SECONDARY:

.PHONY: all check demo asan fuzz deps deps-ref clean bench bench-tokenizer help
all: $(LIB) $(TOOL_BINS) $(TEST_BINS)

help:
	@echo "make            build userspace into $(BUILD)/"
	@echo "make demo       install what is needed, then run the demo"
	@echo "make check      install what is needed, then run every test"
	@echo "make asan       run the tests under ASan+UBSan (build-asan/)"
	@echo "make fuzz       run the fuzz targets for a bounded time (FUZZ_SECONDS)"
	@echo "make bench-*    benchmarks, not tests: bench (= bench-model, vs llama.cpp),"
	@echo "                bench-tokenizer, bench-regcmd, bench-matmul, bench-npu (modelled),"
	@echo "                bench-npu-emu (emulated NPU vs CPU backend, this machine)"
	@echo "make accuracy   NPU (emulated) vs CPU path: top-1 agreement and KL divergence"
	@echo "make calibrate  on boltzmann: measure the NPU's unit times, model tok/s with them"
	@echo "                (CALIBRATE_EMU=1: the same on the emulated device, tests the tools)"
	@echo "make kernel-patches | kernel-check | kernel-kunit | kernel | kernel-dtcheck"
	@echo "                regenerate/check the patch series, KUnit under qemu, board build,"
	@echo "                DT schema checks (dt-schema) of the binding, board dtb and overlay"

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/%: $(BUILD)/obj/tools/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ---- dependencies -------------------------------------------------------
# Debian packages (when root) and project-local PyPI/npm packages in .deps/.
# Stamp files keep this quick when everything is already there.
DEPS_DIR := .deps
deps:
	@scripts/deps.sh base
deps-ref:
	@scripts/deps.sh base ref

export PYTHONPATH := $(CURDIR)/$(DEPS_DIR)/py$(if $(PYTHONPATH),:$(PYTHONPATH))
export NODE_PATH := $(CURDIR)/$(DEPS_DIR)/node/node_modules
export ROSENBLATT_BUILD := $(CURDIR)/$(BUILD)

check: deps-ref
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory run-tests

run-tests: $(CHECK_PREREQS)
	@TEST_LOG_DIR=$(BUILD)/test-logs tests/run-tests.sh \
		$(foreach t,$(TEST_PROGS),"$(BUILD)/tests/$(t)") $(CHECK_CMDS)

asan:
	@scripts/deps.sh base ref
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 run-tests

demo: deps-ref
	@scripts/deps.sh model
	@$(MAKE) --no-print-directory all $(DEMO_PREREQS)
	@scripts/demo.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJS:.o=.d)
-include $(patsubst %,$(BUILD)/obj/tools/%.d,$(TOOLS))
-include $(patsubst %,$(BUILD)/obj/tests/%.d,$(TEST_PROGS) $(TEST_HELPERS))
