#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real-model fixtures from llama.cpp (run by `make model-fixtures`):

    PYTHONPATH=.deps/py python3 tests/model/real_fixture.py MODEL.gguf NAME WORKDIR N_GEN ID...

Runs .deps/llama/llama_ref (prompt in one batch, then N_GEN greedy tokens)
twice and writes two small text fixtures:

  tests/model/NAME.ref.txt      llama.cpp on MODEL as it is (its CPU
                                backend rounds activations to 8 bits
                                before quantised dot products);
  tests/model/NAME-f32w.ref.txt llama.cpp on a copy of MODEL with every
                                tensor dequantised to F32 (WORKDIR, deleted
                                afterwards): the same weights with f32
                                activations, which is what our default
                                forward computes from the quantised file.

Format: "n_vocab V", "prompt ID...", "greedy ID...", "max_abs X" (max
|logit| over all evaluated rows), then one "top ID:LOGIT ..." line per
evaluated row (prompt rows, then one per greedy token but the last) with
the TOPK largest logits, best first. tests/test_model.c compares them.
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dequant_gguf  # noqa: E402

TOPK = 20
LLAMA_REF = ".deps/llama/llama_ref"


def fixture(model, out_txt, work, n_gen, prompt):
    dump = os.path.join(work, "logits.f32")
    r = subprocess.run([LLAMA_REF, model, str(n_gen), dump] + prompt,
                       check=True, capture_output=True, text=True)
    head = r.stdout.splitlines()
    n_vocab = int(head[0].split()[1])
    logits = np.fromfile(dump, dtype="<f4").reshape(-1, n_vocab)
    os.remove(dump)
    assert len(logits) == len(prompt) + n_gen - 1
    with open(out_txt, "w") as f:
        f.write("\n".join(head[:3]) + "\n")
        f.write("max_abs %.9g\n" % float(np.abs(logits).max()))
        for row in logits:
            top = np.argsort(-row, kind="stable")[:TOPK]
            f.write("top " + " ".join("%d:%.9g" % (i, row[i]) for i in top) + "\n")
    print("real_fixture: %s (%s)" % (out_txt, head[2]))


def main():
    model, name, work, n_gen = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    prompt = sys.argv[5:]
    os.makedirs(work, exist_ok=True)
    fixture(model, "tests/model/%s.ref.txt" % name, work, n_gen, prompt)
    f32 = os.path.join(work, name + "-f32w.gguf")
    dequant_gguf.dequantize(model, f32)
    try:
        fixture(f32, "tests/model/%s-f32w.ref.txt" % name, work, n_gen, prompt)
    finally:
        os.remove(f32)


if __name__ == "__main__":
    main()
