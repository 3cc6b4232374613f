#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Build a vocab-only Qwen2 GGUF from a Hugging Face tokenizer.json.

Usage:
  scripts/make-vocab-gguf.py TOKENIZER_JSON TOKENIZER_CONFIG_JSON OUT.gguf
      [--config config.json] [--vocab-size N] [--name NAME]

The tokenizer metadata follows what llama.cpp's convert_hf_to_gguf.py writes
for Qwen2 (_set_vocab_gpt2 / get_vocab_base + gguf.SpecialVocab):
  tokenizer.ggml.model  "gpt2"
  tokenizer.ggml.pre    "qwen2"
  tokenizer.ggml.tokens every id 0..vocab_size-1: the BPE vocab, then the
                        added tokens; ids that have no token become
                        "[PAD<id>]" (type UNUSED)
  tokenizer.ggml.token_type
                        NORMAL for the BPE vocab; an added token is CONTROL
                        when it is marked special or looks special
                        ("<|...|>"), USER_DEFINED otherwise
  tokenizer.ggml.merges "left right" strings, rank order
  bos / eos / padding ids, add_bos_token false (tokenizer_config.json), and
  tokenizer.chat_template when present.
vocab_size comes from --vocab-size, else config.json's vocab_size, else
max token id + 1. bos: tokenizer_config's bos_token, else config.json's
bos_token_id, else <|endoftext|> (what Qwen2/Qwen3 config.json files say).
"""
import argparse
import json
import sys
from pathlib import Path

import gguf


def token_content(tok):
    if tok is None:
        return None
    if isinstance(tok, dict):
        return tok.get("content")
    return tok


def looks_special(text):
    # convert_hf_to_gguf.py: does_token_look_special()
    return (text in ("<pad>", "<mask>", "<2mass>", "[@BOS@]")
            or (text.startswith("<|") and text.endswith("|>"))
            or (text.startswith("<\uff5c") and text.endswith("\uff5c>"))
            or (text.startswith("<unused") and text.endswith(">")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tokenizer_json")
    ap.add_argument("tokenizer_config_json")
    ap.add_argument("out")
    ap.add_argument("--config", help="model config.json (vocab_size, bos/eos ids)")
    ap.add_argument("--vocab-size", type=int)
    ap.add_argument("--name", default="Qwen2 tokenizer (vocab only)")
    args = ap.parse_args()

    tj = json.loads(Path(args.tokenizer_json).read_text(encoding="utf-8"))
    tc = json.loads(Path(args.tokenizer_config_json).read_text(encoding="utf-8"))
    cfg = json.loads(Path(args.config).read_text(encoding="utf-8")) if args.config else {}

    model = tj.get("model", {})
    if model.get("type") != "BPE":
        sys.exit("make-vocab-gguf: %s: model.type is %r, expected BPE"
                 % (args.tokenizer_json, model.get("type")))
    vocab = model["vocab"]
    added = {t["id"]: t for t in tj.get("added_tokens", [])}
    # tokenizer_config's added_tokens_decoder may mark more tokens special.
    for sid, t in (tc.get("added_tokens_decoder") or {}).items():
        i = int(sid)
        if i in added:
            added[i] = dict(added[i], special=added[i].get("special") or t.get("special", False))
        else:
            added[i] = dict(t, id=i)

    reverse = {i: t for t, i in vocab.items()}
    for i, t in added.items():
        reverse[i] = t["content"]
    max_id = max(reverse)
    vocab_size = args.vocab_size or cfg.get("vocab_size") or max_id + 1
    if vocab_size <= max_id:
        sys.exit("make-vocab-gguf: vocab size %d is smaller than the largest id %d"
                 % (vocab_size, max_id))

    tokens, types = [], []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append("[PAD%d]" % i)
            types.append(gguf.TokenType.UNUSED)
        elif i in added:
            text = reverse[i]
            if added[i].get("special") or looks_special(text):
                types.append(gguf.TokenType.CONTROL)
            else:
                text = text.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
            tokens.append(text)
        else:
            tokens.append(reverse[i])
            types.append(gguf.TokenType.NORMAL)

    merges = []
    for m in model.get("merges", []):
        merges.append(" ".join(m) if isinstance(m, list) else m)

    ids = {t: i for i, t in enumerate(tokens)}

    def tid(name, cfg_key, fallback=None):
        text = token_content(tc.get(name))
        if text is not None:
            if text not in ids:
                sys.exit("make-vocab-gguf: %s %r is not a token" % (name, text))
            return ids[text]
        if cfg.get(cfg_key) is not None:
            return int(cfg[cfg_key])
        return ids.get(fallback) if fallback else None

    bos = tid("bos_token", "bos_token_id", "<|endoftext|>")
    eos = tid("eos_token", "eos_token_id")
    pad = tid("pad_token", "pad_token_id")

    w = gguf.GGUFWriter(args.out, "qwen2")
    w.add_type("model")
    w.add_name(args.name)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    if bos is not None:
        w.add_bos_token_id(bos)
    if eos is not None:
        w.add_eos_token_id(eos)
    if pad is not None:
        w.add_pad_token_id(pad)
    w.add_add_bos_token(bool(tc.get("add_bos_token", False)))
    if tc.get("chat_template"):
        w.add_chat_template(tc["chat_template"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("make-vocab-gguf: %s: %d tokens (%d added, %d unused), %d merges, bos %s eos %s pad %s"
          % (args.out, len(tokens), len(added), vocab_size - len(reverse), len(merges), bos, eos, pad))


if __name__ == "__main__":
    main()
