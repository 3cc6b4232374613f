#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write tiny random-weight GGUF models for the forward-pass oracle.

    make-tiny-model.py OUTDIR QUANT_DUMP

Writes OUTDIR/tiny-{f32,f16,q8_0,q4_k}.gguf (qwen2: GQA 8/2 heads, QKV
bias, NeoX RoPE; q4_k has a tied output), OUTDIR/tiny-llama-q8_0.gguf
(llama: no bias, normal RoPE), OUTDIR/tiny-llama-q4_1.gguf (Q4_1 matrices
and a tied Q8_0 embedding, shaped like the SmolLM2 demo model), and
OUTDIR/bad-*.gguf with one defect each (for the loader's error messages),
and, when ggml's own libggml-base.so is importable (PyPI libggml-python,
scripts/deps.sh ref), OUTDIR/tiny-iq4.gguf: tiny-q8_0's weights with the
attention matrices IQ4_NL and the FFN matrices IQ4_XS, quantised by ggml's
quantize_iq4_nl / quantize_iq4_xs (no imatrix; we have no IQ4 quantiser),
embedding and output Q8_0. Without the library it is not written (and its
tests SKIP).

    make-tiny-model.py --bench-1.5b OUT.gguf QUANT_DUMP

instead writes a Qwen2.5-1.5B-shaped Q4_K_M model with random weights for
`make bench` (~1 GB, not committed; see bench_model()).
All come from seeded float weights, so the files are byte-for-byte
reproducible. Q8_0/Q4_1 are quantised with gguf.quants; Q4_K with
our own quantiser (QUANT_DUMP = build/tests/quant_dump, as gguf-py has no
Q4_K quantiser). The vocabulary is the 256 GPT-2 byte symbols, BPE merges
learned from a short text and the three Qwen control tokens, so the tokenizer
loads and round-trips text, even though the model itself is noise.
"""
import ctypes
import glob
import os
import subprocess
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T

N_LAYER, N_EMBD, N_FF, N_HEAD, N_KV, N_CTX = 2, 256, 512, 8, 2, 512
HEAD_DIM = N_EMBD // N_HEAD
N_MERGES = 61
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
TEXT = ("You are a helpful assistant. The quick brown fox jumps over the lazy dog. "
        "Hello world! This is a tiny model for testing the inference engine. "
        "the cat sat on the mat and then the dog sat on the cat") * 3


def byte_symbols():
    """GPT-2's bytes_to_unicode table: byte -> printable symbol."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def vocab():
    sym = byte_symbols()
    tokens = [sym[b] for b in range(256)]
    # learn merges on words with the leading-space marker, as GPT-2 BPE does
    words = []
    for i, w in enumerate(TEXT.split(" ")):
        w = (" " if i else "") + w
        words.append([sym[b] for b in w.encode()])
    merges = []
    while len(merges) < N_MERGES:
        counts = {}
        for w in words:
            for a, b in zip(w, w[1:]):
                counts[(a, b)] = counts.get((a, b), 0) + 1
        if not counts:
            break
        best = max(sorted(counts), key=lambda p: counts[p])
        merges.append(best)
        tokens.append(best[0] + best[1])
        for w in words:
            i = 0
            while i < len(w) - 1:
                if (w[i], w[i + 1]) == best:
                    w[i:i + 2] = [best[0] + best[1]]
                else:
                    i += 1
    types = [1] * len(tokens) + [3] * len(SPECIALS)
    tokens += SPECIALS
    return tokens, types, [f"{a} {b}" for a, b in merges]


def weights(n_vocab, bias):
    rng = np.random.default_rng(1234)

    def mat(rows, cols, scale=1.0):
        return (rng.standard_normal((rows, cols)) * scale / np.sqrt(cols)).astype(np.float32)

    def vec(n, mean, std):
        return (mean + std * rng.standard_normal(n)).astype(np.float32)

    w = {"token_embd.weight": rng.standard_normal((n_vocab, N_EMBD)).astype(np.float32)}
    for l in range(N_LAYER):
        p = f"blk.{l}."
        w[p + "attn_norm.weight"] = vec(N_EMBD, 1.0, 0.1)
        w[p + "attn_q.weight"] = mat(N_EMBD, N_EMBD, 2.0)
        w[p + "attn_k.weight"] = mat(N_KV * HEAD_DIM, N_EMBD, 2.0)
        w[p + "attn_v.weight"] = mat(N_KV * HEAD_DIM, N_EMBD)
        if bias:
            w[p + "attn_q.bias"] = vec(N_EMBD, 0.0, 0.1)
            w[p + "attn_k.bias"] = vec(N_KV * HEAD_DIM, 0.0, 0.5)
            w[p + "attn_v.bias"] = vec(N_KV * HEAD_DIM, 0.0, 0.1)
        w[p + "attn_output.weight"] = mat(N_EMBD, N_EMBD)
        w[p + "ffn_norm.weight"] = vec(N_EMBD, 1.0, 0.1)
        w[p + "ffn_gate.weight"] = mat(N_FF, N_EMBD)
        w[p + "ffn_up.weight"] = mat(N_FF, N_EMBD)
        w[p + "ffn_down.weight"] = mat(N_EMBD, N_FF)
    w["output_norm.weight"] = vec(N_EMBD, 1.0, 0.1)
    # logits with a spread of a few units, so greedy picks are not near-ties
    w["output.weight"] = mat(n_vocab, N_EMBD, 4.0)
    return w


def quant_ours(quant_dump, arr, qtype):
    out = subprocess.run([quant_dump, "q", str(int(qtype))], input=arr.astype("<f4").tobytes(),
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.uint8).reshape(arr.shape[0], -1)


def find_ggml():
    """ggml's libggml-base.so (from libggml-python, as tests/quant_ref_test.py
    finds it: $ROSENBLATT_GGML_BASE, else libggml/lib*/ on sys.path), or None."""
    cands = [os.environ["ROSENBLATT_GGML_BASE"]] if os.environ.get("ROSENBLATT_GGML_BASE") else []
    for p in sys.path:
        cands += sorted(glob.glob(os.path.join(p or ".", "libggml", "lib*", "libggml-base.so")))
    for c in cands:
        try:
            lib = ctypes.CDLL(c)
            for fn in (lib.quantize_iq4_nl, lib.quantize_iq4_xs):
                # size_t quantize_iq4_*(const float *src, void *dst, int64_t nrows,
                #                       int64_t n_per_row, const float *imatrix)
                fn.restype = ctypes.c_size_t
                fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64,
                               ctypes.c_void_p]
            return lib
        except (OSError, AttributeError):
            continue
    return None


def quant_ggml(lib, arr, qtype):
    """Rows of arr quantised by ggml's own quantize_iq4_nl / quantize_iq4_xs."""
    fn = {T.IQ4_NL: lib.quantize_iq4_nl, T.IQ4_XS: lib.quantize_iq4_xs}[qtype]
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    rows, cols = arr.shape
    src = np.ascontiguousarray(arr, dtype=np.float32)
    dst = np.zeros((rows, cols // block * size), dtype=np.uint8)
    n = fn(src.ctypes.data, dst.ctypes.data, rows, cols, None)
    assert n == dst.size, (qtype, n, dst.size)
    return dst


def write(path, arch, w, types_of, tok, quant_dump, ggml=None):
    tokens, ttypes, merges = tok
    wr = gguf.GGUFWriter(path, arch=arch)
    wr.add_name("rosenblatt-tiny")
    wr.add_block_count(N_LAYER)
    wr.add_context_length(N_CTX)
    wr.add_embedding_length(N_EMBD)
    wr.add_feed_forward_length(N_FF)
    wr.add_head_count(N_HEAD)
    wr.add_head_count_kv(N_KV)
    wr.add_rope_freq_base(10000.0)
    wr.add_layer_norm_rms_eps(1e-6)
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("qwen2")
    wr.add_token_list(tokens)
    wr.add_token_types(ttypes)
    wr.add_token_merges(merges)
    wr.add_bos_token_id(tokens.index("<|endoftext|>"))
    wr.add_eos_token_id(tokens.index("<|im_end|>"))
    wr.add_pad_token_id(tokens.index("<|endoftext|>"))
    wr.add_add_bos_token(False)
    for name, arr in w.items():
        qt = types_of(name, arr)
        if qt == T.F32 or arr.dtype != np.float32:
            wr.add_tensor(name, arr)
        elif qt == T.F16:
            wr.add_tensor(name, arr.astype(np.float16))
        elif qt == T.Q4_K:
            wr.add_tensor(name, quant_ours(quant_dump, arr, qt), raw_dtype=qt)
        elif qt in (T.IQ4_NL, T.IQ4_XS):
            wr.add_tensor(name, quant_ggml(ggml, arr, qt), raw_dtype=qt)
        else:
            wr.add_tensor(name, gguf.quants.quantize(arr, qt), raw_dtype=qt)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def quant_q6_K(x):
    """Q6_K blocks of the rows of x (a plain absmax quantiser: per 16 values
    scale = max / -32, 8-bit sub-scales under an f16 super-scale). Enough
    for random bench weights; gguf-py has no Q6_K quantiser."""
    rows, cols = x.shape
    b = x.reshape(-1, 16, 16).astype(np.float32)            # [blocks][16 subs][16]
    idx = np.abs(b).argmax(axis=-1)[..., None]
    mx = np.take_along_axis(b, idx, axis=-1)[..., 0]        # signed max per sub-block
    scale = mx / -32.0
    dmax = np.abs(scale).max(axis=-1, keepdims=True)
    d = (dmax / 127.0).astype(np.float16).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(d > 0, np.rint(scale / d), 0).clip(-128, 127).astype(np.int8)
        ds = d * sc.astype(np.float32)
        q = np.where(ds[..., None] != 0, np.rint(b / ds[..., None]), 0)
    q = (q.clip(-32, 31) + 32).astype(np.uint8).reshape(-1, 256)
    # layout of dequantize_row_q6_K: two halves of 128, each 64 ql bytes + 32 qh bytes
    q = q.reshape(-1, 2, 4, 32)                             # [blk][half][quarter][32]
    ql = np.concatenate([(q[:, :, 0] & 15) | ((q[:, :, 2] & 15) << 4),
                         (q[:, :, 1] & 15) | ((q[:, :, 3] & 15) << 4)], axis=2)   # [blk][half][64]
    qh = ((q[:, :, 0] >> 4) | ((q[:, :, 1] >> 4) << 2) | ((q[:, :, 2] >> 4) << 4) |
          ((q[:, :, 3] >> 4) << 6)).astype(np.uint8)                             # [blk][half][32]
    out = np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.view(np.uint8).reshape(-1, 16),
                          d.astype(np.float16).view(np.uint8).reshape(-1, 2)], axis=1)
    return out.reshape(rows, -1)


def bench_model(path, quant_dump):
    """Qwen2.5-1.5B-Instruct's shapes with random weights, quantised like
    llama.cpp's Q4_K_M: token_embd (tied output) Q6_K, attn_v and ffn_down
    Q6_K in the layers llama.cpp's use_more_bits() picks (14 of 28), Q4_K
    otherwise; norms and biases F32. To keep generation to seconds each
    matrix is built from a pool of 256 random rows per (type, width),
    picked at random (the kernels do not care)."""
    L, D, FF, H, KV, V, HD = 28, 1536, 8960, 12, 2, 151936, 128
    rng = np.random.default_rng(4321)
    pools = {}

    def mat(rows, cols, qt):
        if (qt, cols) not in pools:
            f = (rng.standard_normal((256, cols)) / np.sqrt(cols)).astype(np.float32)
            pools[(qt, cols)] = quant_q6_K(f) if qt == T.Q6_K else quant_ours(quant_dump, f, qt)
        pool = pools[(qt, cols)]
        return pool[rng.integers(0, len(pool), rows)], qt

    def more_bits(i):
        return i < L // 8 or i >= 7 * L // 8 or (i - L // 8) % 3 == 2

    tokens, types, merges = vocab()
    while len(tokens) < V:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(5)
    wr = gguf.GGUFWriter(path, arch="qwen2")
    wr.add_name("rosenblatt-bench-qwen2.5-1.5b-random")
    wr.add_block_count(L)
    wr.add_context_length(32768)
    wr.add_embedding_length(D)
    wr.add_feed_forward_length(FF)
    wr.add_head_count(H)
    wr.add_head_count_kv(KV)
    wr.add_rope_freq_base(1000000.0)
    wr.add_layer_norm_rms_eps(1e-6)
    wr.add_file_type(15)	# LLAMA_FTYPE_MOSTLY_Q4_K_M
    wr.add_tokenizer_model("gpt2")
    wr.add_tokenizer_pre("qwen2")
    wr.add_token_list(tokens)
    wr.add_token_types(types)
    wr.add_token_merges(merges)
    wr.add_bos_token_id(tokens.index("<|endoftext|>"))
    wr.add_eos_token_id(tokens.index("<|im_end|>"))
    wr.add_add_bos_token(False)

    def add(name, arr_qt):
        arr, qt = arr_qt
        wr.add_tensor(name, arr, raw_dtype=qt)

    def vec(n, mean, std):
        return (mean + std * rng.standard_normal(n)).astype(np.float32)

    add("token_embd.weight", mat(V, D, T.Q6_K))
    for i in range(L):
        p = f"blk.{i}."
        hi = T.Q6_K if more_bits(i) else T.Q4_K
        wr.add_tensor(p + "attn_norm.weight", vec(D, 1.0, 0.1))
        add(p + "attn_q.weight", mat(D, D, T.Q4_K))
        add(p + "attn_k.weight", mat(KV * HD, D, T.Q4_K))
        add(p + "attn_v.weight", mat(KV * HD, D, hi))
        wr.add_tensor(p + "attn_q.bias", vec(D, 0.0, 0.1))
        wr.add_tensor(p + "attn_k.bias", vec(KV * HD, 0.0, 0.1))
        wr.add_tensor(p + "attn_v.bias", vec(KV * HD, 0.0, 0.1))
        add(p + "attn_output.weight", mat(D, D, T.Q4_K))
        wr.add_tensor(p + "ffn_norm.weight", vec(D, 1.0, 0.1))
        add(p + "ffn_gate.weight", mat(FF, D, T.Q4_K))
        add(p + "ffn_up.weight", mat(FF, D, T.Q4_K))
        add(p + "ffn_down.weight", mat(D, FF, hi))
    wr.add_tensor("output_norm.weight", vec(D, 1.0, 0.1))
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()


def main():
    if sys.argv[1] == "--bench-1.5b":
        bench_model(sys.argv[2], sys.argv[3])
        return
    outdir, quant_dump = sys.argv[1], sys.argv[2]
    tok = vocab()
    n_vocab = len(tok[0])

    def only_2d(qt):
        return lambda name, arr: qt if arr.ndim == 2 else T.F32

    def q4k_mix(name, arr):
        # like llama.cpp's Q4_K_M: most matrices Q4_K, the sensitive ones
        # at more bits (Q8_0 here; we cannot write Q6_K)
        if arr.ndim != 2:
            return T.F32
        if "attn_v" in name or "ffn_down" in name:
            return T.Q8_0
        return T.Q4_K

    qwen = weights(n_vocab, bias=True)
    write(f"{outdir}/tiny-f32.gguf", "qwen2", qwen, only_2d(T.F32), tok, quant_dump)
    write(f"{outdir}/tiny-f16.gguf", "qwen2", qwen, only_2d(T.F16), tok, quant_dump)
    write(f"{outdir}/tiny-q8_0.gguf", "qwen2", qwen, only_2d(T.Q8_0), tok, quant_dump)
    tied = {k: v for k, v in qwen.items() if k != "output.weight"}
    tied["token_embd.weight"] = qwen["output.weight"]
    write(f"{outdir}/tiny-q4_k.gguf", "qwen2", tied, q4k_mix, tok, quant_dump)
    llama = weights(n_vocab, bias=False)
    write(f"{outdir}/tiny-llama-q8_0.gguf", "llama", llama, only_2d(T.Q8_0), tok, quant_dump)
    # shaped like the SmolLM2 demo model: Q4_1 matrices, Q8_0 tied embedding
    tied = {k: v for k, v in llama.items() if k != "output.weight"}
    tied["token_embd.weight"] = llama["output.weight"]
    write(f"{outdir}/tiny-llama-q4_1.gguf", "llama", tied,
          lambda name, arr: T.F32 if arr.ndim != 2 else T.Q8_0 if name.startswith("token_embd")
          else T.Q4_1, tok, quant_dump)

    # IQ4_NL attention (32-wide blocks), IQ4_XS FFN (256-wide: every matrix
    # here has 256 or 512 columns), Q8_0 embedding and output
    def iq4_mix(name, arr):
        if arr.ndim != 2:
            return T.F32
        return T.IQ4_NL if ".attn_" in name else T.IQ4_XS if ".ffn_" in name else T.Q8_0

    ggml = find_ggml()
    if ggml:
        write(f"{outdir}/tiny-iq4.gguf", "qwen2", qwen, iq4_mix, tok, quant_dump, ggml)
    else:
        if os.path.exists(f"{outdir}/tiny-iq4.gguf"):
            os.remove(f"{outdir}/tiny-iq4.gguf")
        print("make-tiny-model: libggml-python (ggml's libggml-base.so) not found, "
              "tiny-iq4.gguf not written (scripts/deps.sh ref)", file=sys.stderr)

    # broken variants for the loader's error paths (tests/test_model.c)
    f16 = only_2d(T.F16)
    write(f"{outdir}/bad-arch.gguf", "gpt2", qwen, f16, tok, quant_dump)
    write(f"{outdir}/bad-missing.gguf", "qwen2",
          {k: v for k, v in qwen.items() if k != "blk.1.ffn_up.weight"}, f16, tok, quant_dump)
    write(f"{outdir}/bad-shape.gguf", "qwen2",
          dict(qwen, **{"blk.0.attn_k.weight": qwen["blk.0.attn_k.weight"][:32]}), f16, tok, quant_dump)
    write(f"{outdir}/bad-type.gguf", "qwen2",
          dict(qwen, **{"blk.0.attn_norm.weight": qwen["blk.0.attn_norm.weight"].astype(np.float16)}),
          f16, tok, quant_dump)


if __name__ == "__main__":
    main()
