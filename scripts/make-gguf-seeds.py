#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the GGUF fuzzer's seed corpus (fuzz/corpus/gguf): small valid files
covering every metadata type, nested arrays, v2/v3, alignments and tensor types."""
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
import gguf_ref_test as g  # noqa: E402

out = sys.argv[1] if len(sys.argv) > 1 else "fuzz/corpus/gguf"
os.makedirs(out, exist_ok=True)
rng = random.Random(99)
n = 0
while n < 24:
    p = os.path.join(out, f"seed{n:02d}.gguf")
    g.build_file(rng, p, 2 + n % 2)
    if os.path.getsize(p) <= 4096:  # small seeds mutate faster
        n += 1
print(f"wrote {n} seeds to {out}")
