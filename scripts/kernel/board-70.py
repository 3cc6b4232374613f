#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Derive a 7.0-era style rk3588-rock-5-itx.dts from a 7.2+ one, to test the
overlay against what boltzmann's 7.0-rc3 board file looks like: no &pd_npu
supply, no rknn_core/rknn_mmu enables, vdd_npu_s0 still regulator-always-on
(see ../shared/docs/kernel-facts.md, section 5)."""
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
s = open(src).read()
n0 = len(s)
s, n = re.subn(r'\n&(pd_npu|rknn_core_[012]|rknn_mmu_[012]) \{\n(?:\t[^\n]*\n|\n)*?\};\n', '\n', s)
if n != 7:
    sys.exit(f'board-70: expected 7 NPU blocks, removed {n}')
s, n = re.subn(r'(regulator-name = "vdd_npu_s0";\n)', r'\1\t\tregulator-always-on;\n', s)
if n != 1:
    sys.exit('board-70: vdd_npu_s0 not found')
open(dst, 'w').write(s)
print(f'board-70: {src} -> {dst} ({n0 - len(s)} bytes removed)')
