#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-check of the C tokenizer against the committed reference ids.

Usage: tokenizer_ref_test.py                       (Qwen2 vocab, expected.jsonl)
       tokenizer_ref_test.py --model GGUF --expected FILE [--no-nfc] [--skip-missing]

tests/tokenizer/expected*.jsonl come from transformers.js (@lenml/tokenizers,
scripts/tokenizer-ref.mjs, `make tokenizer-expected`). For each string this
runs $ROSENBLATT_BUILD/tests/tokenizer_dump on the model (default
$ROSENBLATT_BUILD/qwen2-vocab.gguf) and prints one TAP case per string covering:
  - ids in the three modes (special / nospecial / plain) == reference ids
  - decode(ids) with ill-formed UTF-8 replaced == the reference's decode
  - decode(ids) == the input bytes when the input is well-formed UTF-8 and
    already NFC (the Qwen2 tokenizer normalises to NFC); with --no-nfc (a
    model without normalizer) when the reference's decode round-trips too
    (it does not when a character has no token and is dropped)
  - the streaming decoder's output == the reference's decode
Then, for the default model only: the tool's command line (ids, --decode
round trip, errors). --skip-missing: a missing model is one SKIP, not a failure.
"""
import json
import os
import subprocess
import sys
import unicodedata

from tokdump import run_dump

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("ROSENBLATT_BUILD", os.path.join(ROOT, "build"))
VOCAB = os.path.join(BUILD, "qwen2-vocab.gguf")
DUMP = os.path.join(BUILD, "tests", "tokenizer_dump")
TOOL = os.path.join(BUILD, "rosenblatt-tokenize")
EXPECTED = os.path.join(ROOT, "tests", "tokenizer", "expected.jsonl")
MODES = ("special", "nospecial", "plain")

n_case = 0
failed = False


def case(name, ok, diag=()):
    global n_case, failed
    n_case += 1
    for d in diag if not ok else ():
        print("#   " + d)
    print(("ok" if ok else "not ok") + " %d - %s" % (n_case, name))
    if not ok:
        failed = True


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def show_ids(label, got, exp):
    i = first_diff(got, exp)
    return "%s: first difference at index %d: got %s, expected %s" % (
        label, i, got[max(0, i - 3):i + 5], exp[max(0, i - 3):i + 5])


def main():
    args = sys.argv[1:]
    opts = {"--model": VOCAB, "--expected": EXPECTED}
    flags = set()
    while args:
        a = args.pop(0)
        if a in opts and args:
            opts[a] = args.pop(0)
        elif a in ("--no-nfc", "--skip-missing"):
            flags.add(a)
        else:
            sys.exit("usage: tokenizer_ref_test.py [--model GGUF] [--expected FILE] "
                     "[--no-nfc] [--skip-missing]")
    vocab, expected = opts["--model"], opts["--expected"]
    nfc = "--no-nfc" not in flags
    if not os.path.exists(vocab) and "--skip-missing" in flags:
        print("1..1")
        print("ok 1 - %s # SKIP model %s not installed (scripts/deps.sh model)"
              % (os.path.basename(expected), vocab))
        return 0
    if not os.path.exists(vocab) or not os.access(DUMP, os.X_OK):
        print("1..1")
        print("not ok 1 - tokenizer reference test # missing %s or %s (make %s)"
              % (vocab, DUMP, os.path.relpath(vocab, ROOT)))
        return 1
    cases = [json.loads(l) for l in open(expected, encoding="utf-8") if l.strip()]

    reqs = []
    for c in cases:
        for m in MODES:
            reqs.append("enc %s %s" % (m, c["hex"]))
        reqs.append("dec " + " ".join(map(str, c["special"])))
        reqs.append("stream " + " ".join(map(str, c["special"])))
    out = run_dump(DUMP, vocab, reqs)
    if out is None:
        return 1

    k = 0
    for c in cases:
        diag = []
        raw = bytes.fromhex(c["hex"])
        for m in MODES:
            line = out[k]
            k += 1
            got = [int(x) for x in line.split()] if not line.startswith("ERR") else None
            if got is None:
                diag.append("%s: %s" % (m, line))
            elif got != c[m]:
                diag.append(show_ids(m, got, c[m]))
        dec = out[k]
        stream = out[k + 1]
        k += 2
        ref = bytes.fromhex(c["decoded_hex"])
        if dec.startswith("ERR") or stream.startswith("ERR"):
            diag.append("decode: %s / %s" % (dec, stream))
        else:
            dec_b = bytes.fromhex(dec)
            fixed = dec_b.decode("utf-8", "replace").encode()
            if fixed != ref:
                diag.append("decode: got %r, reference %r" % (fixed[:80], ref[:80]))
            try:
                text = raw.decode("utf-8")
                if nfc:
                    want_rt = unicodedata.normalize("NFC", text) == text
                else:
                    want_rt = ref == raw
                if want_rt and dec_b != raw:
                    diag.append("round trip: decode(encode(s)) = %r != s" % dec_b[:80])
            except UnicodeDecodeError:
                pass
            if bytes.fromhex(stream) != ref:
                diag.append("stream: got %r, reference %r" % (bytes.fromhex(stream)[:80], ref[:80]))
        case("%s (%d ids)" % (c["name"], len(c["special"])), not diag, diag)

    if vocab == VOCAB:
        tool_tests()
    print("1..%d" % n_case)
    return 1 if failed else 0


def run_tool(args, data):
    return subprocess.run([TOOL] + args, input=data, capture_output=True)


def tool_tests():
    if not os.access(TOOL, os.X_OK):
        case("rosenblatt-tokenize # SKIP %s not built" % TOOL, True)
        return
    text = "<|im_start|>user\nHello, 世界! 🙂<|im_end|>\n".encode()
    p = run_tool(["-m", VOCAB], text)
    ids = p.stdout.decode().split()
    case("tool: encodes stdin, ids on one line",
         p.returncode == 0 and p.stdout.endswith(b"\n") and p.stdout.count(b"\n") == 1
         and ids[0] == "151644" and ids[-2] == "151645",
         ["rc %d out %r err %r" % (p.returncode, p.stdout[:200], p.stderr[:200])])
    p2 = run_tool(["-m", VOCAB, "--decode"], p.stdout)
    case("tool: --decode round trip", p2.returncode == 0 and p2.stdout == text,
         ["rc %d out %r err %r" % (p2.returncode, p2.stdout[:200], p2.stderr[:200])])
    p3 = run_tool(["-m", VOCAB, "--no-special"], text)
    case("tool: --no-special keeps <|im_start|> as text",
         p3.returncode == 0 and "151644" not in p3.stdout.decode().split(),
         ["rc %d out %r" % (p3.returncode, p3.stdout[:200])])
    p4 = run_tool(["-m", VOCAB, "--decode"], b"9707 999999\n")
    case("tool: --decode rejects an out-of-range id with exit 1",
         p4.returncode == 1 and b"999999" in p4.stderr and b"not a token id" in p4.stderr,
         ["rc %d err %r" % (p4.returncode, p4.stderr[:200])])
    p5 = run_tool(["-m", VOCAB, "--decode"], b"12 abc\n")
    case("tool: --decode rejects a non-number with exit 1",
         p5.returncode == 1 and b"abc" in p5.stderr, ["rc %d err %r" % (p5.returncode, p5.stderr[:200])])
    p6 = run_tool(["-m", os.path.join(ROOT, "Makefile")], b"x")
    case("tool: a file that is not GGUF fails with exit 1",
         p6.returncode == 1 and p6.stderr.startswith(b"rosenblatt-tokenize: "),
         ["rc %d err %r" % (p6.returncode, p6.stderr[:200])])
    p7 = run_tool(["-m", "/nonexistent.gguf"], b"x")
    case("tool: a missing file fails with exit 1", p7.returncode == 1 and p7.stderr,
         ["rc %d err %r" % (p7.returncode, p7.stderr[:200])])
    p8 = run_tool(["--help"], b"")
    case("tool: --help", p8.returncode == 0 and b"usage:" in p8.stdout)
    p9 = run_tool([], b"")
    case("tool: no -m fails with exit 1", p9.returncode == 1 and b"-m MODEL.gguf" in p9.stderr)
    p10 = run_tool(["-m", VOCAB], b"")
    case("tool: empty input gives an empty line", p10.returncode == 0 and p10.stdout == b"\n")


if __name__ == "__main__":
    sys.exit(main())
