# SPDX-License-Identifier: MIT
# GGUF reader: tool, unit tests, cross-check against the gguf Python package.
TOOLS += gguf-info
TEST_PROGS += test_gguf
CHECK_CMDS += "python3 tests/gguf_ref_test.py"
TEST_HELPERS += gguf_dump
