# SPDX-License-Identifier: MIT
# NPU backend (lib/npu_backend.c): int8 matmuls through DRM_IOCTL_ROCKET_SUBMIT_MATMUL
# via libdrm (docs/npu-backend.md), its test against the emulated device, and
# the modelled RK3588 performance (`make bench-npu`, MODELLED, never measured).
NPU_DRM_CFLAGS := $(shell pkg-config --cflags libdrm 2>/dev/null || echo -I/usr/include/libdrm)
NPU_DRM_LIBS := $(shell pkg-config --libs libdrm 2>/dev/null || echo -ldrm)
LIB_SRCS += lib/npu_backend.c lib/npu_model.c lib/npu_fit.c
# the fit behind npu-calibrate (pure)
TEST_PROGS += test_npu_fit
LDLIBS += $(NPU_DRM_LIBS)
$(BUILD)/obj/lib/npu_backend.o: CFLAGS += $(NPU_DRM_CFLAGS) -Ikernel/include/uapi
$(BUILD)/obj/tests/test_npu_backend.o: CFLAGS += $(NPU_DRM_CFLAGS) -Ikernel/include/uapi
$(BUILD)/obj/tests/test_npu_model.o: CFLAGS += $(NPU_DRM_CFLAGS) -Ikernel/include/uapi

# Needs a device: run by the script (emulated device via LD_PRELOAD; SKIP without one).
TEST_HELPERS += test_npu_backend test_npu_model
CHECK_CMDS += "tests/npu_backend_test.sh"
# npu-calibrate / npu-perf-model --calibrated (`make calibrate`)
CHECK_CMDS += "tests/npu_calibrate_test.sh"

# `make bench-npu`: MODELLED RK3588 decode/prefill speed from exact counts (the
# backend run dry through the kernel's split/tiling code), never a measurement.
TOOLS += npu-perf-model
$(BUILD)/obj/tools/npu-perf-model.o: CFLAGS += -Ilib/kcompat -iquote lib/kcompat/linux -Ikernel/include/uapi
.PHONY: bench-npu
bench-npu: $(BUILD)/npu-perf-model
	@$(BUILD)/npu-perf-model --model qwen2.5-1.5b --prefill 128
	@echo
	@$(BUILD)/npu-perf-model --model smollm2-135m --prefill 128

# `make calibrate`: on boltzmann, measure the model's unit times on the NPU
# (npu-calibrate) and print the Qwen2.5-1.5B prediction with them instead of
# the assumptions. CALIBRATE_EMU=1 runs it on the emulated device: the
# simulator's times on this host, a test of the tools, not of any RK3588.
TOOLS += npu-calibrate
$(BUILD)/obj/tools/npu-calibrate.o: CFLAGS += -Ilib/kcompat -iquote lib/kcompat/linux -Ikernel/include/uapi
CALIBRATE_FLAGS ?=
.PHONY: calibrate
calibrate: $(BUILD)/npu-calibrate $(BUILD)/npu-perf-model $(if $(CALIBRATE_EMU),$(BUILD)/librocket-shim.so)
	@scripts/calibrate.sh $(BUILD) "$(CALIBRATE_EMU)" $(CALIBRATE_FLAGS)

# `make bench-npu-emu`: emulated-NPU decode against the CPU backend on the tiny
# models and SmolLM2 (when fetched), same threads, medians and ratios: measured
# on this x86 machine, the simulator standing in for the NPU.
BENCH_EMU_THREADS ?= 2
BENCH_EMU_TOKENS ?= 400
BENCH_EMU_ROUNDS ?= 7
.PHONY: bench-npu-emu
bench-npu-emu: $(BUILD)/rosenblatt-gen $(BUILD)/librocket-shim.so $(BUILD)/tiny/.stamp
	@scripts/bench-npu-emu.sh $(BUILD) $(BENCH_EMU_THREADS) $(BENCH_EMU_TOKENS) $(BENCH_EMU_ROUNDS) \
		$(addprefix $(TINY_DIR)/,$(addsuffix .gguf,$(TINY_MODELS))) $(SMOL_MODEL)

# `make accuracy`: NPU (emulated device) vs the CPU f32 path on the tiny models
# and SmolLM2-135M over tests/npu/accuracy.txt: top-1 agreement, KL divergence,
# perplexity, per-channel int8 and Hadamard variants (docs/npu-backend.md).
TOOLS += npu-accuracy
ACCURACY_HADAMARD ?= 0,64,512
ACCURACY_CPU_SHARE ?= 0.5
.PHONY: accuracy
accuracy: $(BUILD)/npu-accuracy $(BUILD)/librocket-shim.so $(BUILD)/tiny/.stamp
	@scripts/deps.sh model
	@LD_PRELOAD=$(abspath $(BUILD)/librocket-shim.so) $(BUILD)/npu-accuracy --hadamard $(ACCURACY_HADAMARD) \
		--hilo --cpu-share $(ACCURACY_CPU_SHARE) --goal-kld 0.01 --goal-top1 97 -t 2 \
		$(addprefix $(TINY_DIR)/,$(addsuffix .gguf,$(TINY_MODELS))) $(SMOL_MODEL)
DEMO_PREREQS += $(BUILD)/tiny/.stamp
