#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write a HF tokenizer.json (+ tokenizer_config.json) from a GGUF's own
tokenizer.ggml.* metadata, so a reference implementation (transformers.js,
scripts/tokenizer-ref.mjs --tokenizer-json) tokenizes with exactly the
GGUF's vocabulary, merges and token types.

Usage: scripts/gguf-tokenizer-json.py MODEL.gguf OUT_DIR [--pre NAME]

NAME defaults to the GGUF's tokenizer.ggml.pre. The pre-tokenizer / decoder
configuration written for each NAME is the one of the original HF files:
  smollm  SmolLM/SmolLM2: no normalizer, pre_tokenizer
          Sequence[Digits(individual_digits=true),
                   ByteLevel(add_prefix_space=false, use_regex=true)]
  gpt-2   GPT-2: no normalizer, ByteLevel(add_prefix_space=false, use_regex=true)
Both use a ByteLevel decoder and a BPE model without unk_token (characters
missing from the vocabulary are dropped, as HF does). Added tokens are the
CONTROL (special: true) and USER_DEFINED (special: false) tokens.
"""
import json
import os
import sys

import gguf  # PyPI gguf, installed into .deps/py by scripts/deps.sh ref

BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
              "use_regex": True}
PRE = {
    "smollm": {"type": "Sequence", "pretokenizers": [
        {"type": "Digits", "individual_digits": True}, BYTE_LEVEL]},
    "gpt-2": BYTE_LEVEL,
}
CONTROL, USER_DEFINED = 3, 4


def field_str(r, key):
    f = r.fields.get(key)
    return None if f is None else bytes(f.parts[f.data[0]]).decode()


def field_strs(r, key):
    f = r.fields[key]
    return [bytes(f.parts[i]).decode("utf-8") for i in f.data]


def field_int(r, key):
    f = r.fields.get(key)
    return None if f is None else int(f.parts[f.data[0]][0])


def main():
    args = sys.argv[1:]
    pre = None
    if "--pre" in args:
        i = args.index("--pre")
        pre = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    r = gguf.GGUFReader(args[0])
    model = field_str(r, "tokenizer.ggml.model")
    pre = pre or field_str(r, "tokenizer.ggml.pre")
    if model != "gpt2" or pre not in PRE:
        sys.exit("%s: tokenizer.ggml.model %r / pre %r not supported (pre: %s)"
                 % (args[0], model, pre, ", ".join(PRE)))
    tokens = field_strs(r, "tokenizer.ggml.tokens")
    merges = field_strs(r, "tokenizer.ggml.merges")
    tf = r.fields["tokenizer.ggml.token_type"]
    types = [int(tf.parts[i][0]) for i in tf.data]
    assert len(types) == len(tokens)

    vocab = {}
    for i, t in enumerate(tokens):
        vocab.setdefault(t, i)  # first id wins, as in the C tokenizer
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": types[i] == CONTROL}
             for i, t in enumerate(tokens) if types[i] in (CONTROL, USER_DEFINED)]
    tj = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": PRE[pre],
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": merges},
    }

    def tok_of(key):
        v = field_int(r, key)
        return tokens[v] if v is not None and 0 <= v < len(tokens) else None

    cfg = {"tokenizer_class": "GPT2Tokenizer", "add_prefix_space": False,
           "clean_up_tokenization_spaces": False, "model_max_length": 1 << 30,
           "bos_token": tok_of("tokenizer.ggml.bos_token_id"),
           "eos_token": tok_of("tokenizer.ggml.eos_token_id"),
           "pad_token": tok_of("tokenizer.ggml.padding_token_id")}
    os.makedirs(args[1], exist_ok=True)
    for name, obj in (("tokenizer.json", tj), ("tokenizer_config.json", cfg)):
        tmp = os.path.join(args[1], name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(args[1], name))


if __name__ == "__main__":
    main()
