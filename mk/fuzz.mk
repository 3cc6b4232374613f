# SPDX-License-Identifier: MIT
# `make fuzz`: libFuzzer (clang from Debian) over each parser for FUZZ_SECONDS.
# Crashes land in fuzz/regressions/<target>/, which the unit tests replay;
# commit them with the fix.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang-14
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-D_GNU_SOURCE -Ilib -Ikernel/drivers/accel/rocket
FUZZ_TARGETS += gguf
FUZZ_SRCS_gguf := fuzz/gguf_fuzz.c lib/gguf.c lib/ggml_types.c

build-fuzz/%_fuzz: fuzz/%_fuzz.c lib/*.c lib/*.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(FUZZ_FLAGS) $(FUZZ_CFLAGS_$*) $(FUZZ_SRCS_$*) -o $@ $(FUZZ_LDLIBS_$*)

fuzz:
	@scripts/deps.sh base fuzz
	@$(MAKE) --no-print-directory $(patsubst %,build-fuzz/%_fuzz,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t fuzz/regressions/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		build-fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 \
			-print_final_stats=1 -artifact_prefix=fuzz/regressions/$$t/ \
			build-fuzz/corpus-$$t fuzz/corpus/$$t 2>build-fuzz/$$t.log \
			|| { tail -30 build-fuzz/$$t.log; echo "fuzz: $$t found a crash, input saved in fuzz/regressions/$$t/"; exit 1; }; \
		grep -E "stat::number_of_executed_units|stat::peak_rss" build-fuzz/$$t.log | sed "s/^/fuzz: $$t /"; \
	done
FUZZ_TARGETS += tokenizer
FUZZ_SRCS_tokenizer := fuzz/tokenizer_fuzz.c lib/tokenizer.c lib/unicode.c lib/gguf.c lib/ggml_types.c
FUZZ_LDLIBS_tokenizer := -lpcre2-8
# DRM_IOCTL_ROCKET_SUBMIT_MATMUL validation + regcmd generation (kernel pure
# C through lib/kcompat); the checks are in fuzz/rocket_matmul_fuzz.h, which
# tests/test_rocket_matmul.c replays over fuzz/{corpus,regressions}/rocket_matmul.
FUZZ_TARGETS += rocket_matmul
FUZZ_SRCS_rocket_matmul := fuzz/rocket_matmul_fuzz.c \
	kernel/drivers/accel/rocket/rocket_matmul.c kernel/drivers/accel/rocket/rocket_regcmd.c
FUZZ_CFLAGS_rocket_matmul := -Ilib/kcompat -iquote lib/kcompat/linux -Ikernel/include/uapi
build-fuzz/rocket_matmul_fuzz: $(FUZZ_SRCS_rocket_matmul) fuzz/rocket_matmul_fuzz.h \
	$(wildcard kernel/drivers/accel/rocket/*.h lib/kcompat/linux/*.h) kernel/include/uapi/drm/rocket_accel.h
