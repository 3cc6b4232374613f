# SPDX-License-Identifier: MIT
# Quant formats: fp16/bf16 conversion, block (de)quantisation, their tests.
LIB_SRCS += lib/quant.c lib/quant_k.c
TEST_PROGS += test_quant
CHECK_CMDS += "python3 tests/quant_ref_test.py"

# Helper for tests/quant_ref_test.py (not a TAP test itself).
all: $(BUILD)/tests/quant_dump
-include $(BUILD)/obj/tests/quant_dump.d
