# SPDX-License-Identifier: MIT
# Inference: model loading + forward (lib/model.c), CPU kernels (lib/ops*.c),
# thread pool, sampler, chat template, the rosenblatt-gen tool and tests
# against llama.cpp fixtures in tests/model/ (see docs/inference.md).
LIB_SRCS += lib/model.c lib/ops.c lib/ops_avx2.c lib/ops_neon.c lib/threadpool.c \
	lib/sampler.c lib/chat.c
TOOLS += rosenblatt-gen
TEST_PROGS += test_model

# mk/fuzz.mk sorts before this file and its `fuzz:` would become the
# default goal; plain `make` must build.
.DEFAULT_GOAL := all

.PHONY: model-fixtures deps-llama
deps-llama:
	@scripts/deps-llama.sh
