#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Copy a GGUF with every tensor dequantised to F32 (metadata unchanged but
general.file_type = 0), so rosenblatt and llama.cpp can be compared without
llama.cpp's 8-bit activation rounding (for F32 weights ggml dots in f32):

    PYTHONPATH=.deps/py python3 tests/model/dequant_gguf.py IN.gguf OUT.gguf

Dequantisation is gguf.quants (bit-exact with ggml's for Q4_x/Q5_x/Q8_0/
K-quants, which our lib/quant.c tests check), so any remaining difference is
the forward pass, not the weights.
"""
import sys

import numpy as np
import gguf
from gguf import GGUFValueType as VT


def dequantize(src, dst):
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(dst, arch)
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        vtype = VT(f.types[0])
        val = f.contents()
        if key == "general.file_type":
            val = 0
        sub = VT(f.types[1]) if vtype == VT.ARRAY else None
        w.add_key_value(key, val, vtype, sub)
    for t in r.tensors:
        data = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        # numpy shape is the reverse of ggml's ne
        w.add_tensor(t.name, data.reshape(tuple(int(x) for x in reversed(t.shape))))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def main():
    dequantize(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
