#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compare our C (de)quantisation (via $ROSENBLATT_BUILD/tests/quant_dump)
bit for bit with references, printing TAP:

  * gguf-py 0.19.0 (gguf.quants): dequantize for every type it has, quantize
    for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16, BF16;
  * ggml itself (libggml-base.so from the PyPI package libggml-python, loaded
    with ctypes) when installed: dequantize_row_* for every type and
    quantize_row_*_ref for every type we quantize, Q4_K and Q8_K included.
    Without it those cases are skipped.

Floats compare by bits, except that any NaN equals any NaN.
QUANT_SEED=N picks the seed (printed either way); QUANT_BLOCKS=N the number
of random blocks per type.
"""
import ctypes
import glob
import os
import subprocess
import sys

import numpy as np

try:
    from gguf import quants as gq
    from gguf.constants import GGMLQuantizationType as T, GGML_QUANT_SIZES
except ImportError as e:  # keep TAP even when deps are missing
    print(f"not ok 1 - import gguf # {e}")
    print("1..1")
    sys.exit(1)

SEED = int(os.environ.get("QUANT_SEED", "20250611"))
NBLOCKS = int(os.environ.get("QUANT_BLOCKS", "4096"))
BUILD = os.environ.get("ROSENBLATT_BUILD") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "build")
DUMP = os.path.join(BUILD, "tests", "quant_dump")

DEQ_TYPES = [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0,
             T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_K, T.IQ4_NL, T.IQ4_XS]
# byte offsets of the fp16 scale fields in each block
SCALE_OFFS = {T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2],
              T.Q8_0: [0], T.Q2_K: [80, 82], T.Q3_K: [108], T.Q4_K: [0, 2],
              T.Q5_K: [0, 2], T.Q6_K: [208], T.IQ4_NL: [0], T.IQ4_XS: [0]}
GGUFPY_QUANT = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]
GGML_QUANT = [T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q4_K, T.Q8_K]

# edge half-precision scales: zeros, max, subnormals, Inf, NaN (quiet, signalling)
EDGE_F16 = [0x0000, 0x8000, 0x3c00, 0x7bff, 0xfbff, 0x0001, 0x8001, 0x03ff,
            0x0400, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0x7d55]
EDGE_F32 = [0.0, -0.0, 1.0, 3.4028235e38, -3.4028235e38, 1e-45, 1.1754942e-38,
            np.inf, -np.inf, np.nan]

case_no = 0
any_failed = False


def tap(ok, name, diag=None, skip=None):
    global case_no, any_failed
    case_no += 1
    if skip:
        print(f"ok {case_no} - {name} # SKIP {skip}")
    elif ok:
        print(f"ok {case_no} - {name}")
    else:
        any_failed = True
        print(f"not ok {case_no} - {name}")
        for line in (diag or "").splitlines():
            print(f"#   {line}")
    sys.stdout.flush()


def run_dump(mode, qtype, data):
    p = subprocess.run([DUMP, mode, str(int(qtype))], input=data.tobytes(),
                       capture_output=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"quant_dump {mode} {qtype.name}: rc {p.returncode}: "
                           + p.stderr.decode(errors="replace"))
    return p.stdout


def float_mismatch(ours, ref):
    """Indices where two float32 arrays differ (bits, NaN == NaN)."""
    ours = np.asarray(ours, dtype=np.float32).ravel()
    ref = np.asarray(ref, dtype=np.float32).ravel()
    if ours.shape != ref.shape:
        return None
    same = (ours.view(np.uint32) == ref.view(np.uint32)) | (np.isnan(ours) & np.isnan(ref))
    return np.flatnonzero(~same)


def describe_float_diff(bad, ours, ref, bs):
    if len(bad) == 0:
        return ""
    i = int(bad[0])
    return (f"{len(bad)} of {len(ours)} values differ; first at element {i} "
            f"(block {i // bs}): ours {ours[i]!r} ref {ref[i]!r}")


# ---- reference: ggml's own C via libggml-python -------------------------

def find_ggml():
    cands = []
    if os.environ.get("ROSENBLATT_GGML_BASE"):
        cands.append(os.environ["ROSENBLATT_GGML_BASE"])
    for p in sys.path:
        cands += sorted(glob.glob(os.path.join(p or ".", "libggml", "lib*", "libggml-base.so")))
    for c in cands:
        try:
            lib = ctypes.CDLL(c)
            lib.quantize_row_q4_K_ref  # noqa: B018 - probe the symbol
            return lib, c
        except (OSError, AttributeError):
            continue
    return None, None


GGML, GGML_PATH = find_ggml()
GGML_SKIP = "libggml-python (ggml's libggml-base.so) not installed"


def ggml_fn(name):
    f = getattr(GGML, name)
    f.restype = None
    f.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    return f


def ggml_dequant(qtype, blocks):
    bs, ts = GGML_QUANT_SIZES[qtype]
    nblk = blocks.size // ts
    out = np.zeros(nblk * bs, dtype=np.float32)
    if qtype == T.F32:
        return blocks.view(np.float32).copy()
    name = {T.F16: "ggml_fp16_to_fp32_row", T.BF16: "ggml_bf16_to_fp32_row"}.get(
        qtype, "dequantize_row_" + qtype.name.lower().replace("_k", "_K"))
    src = np.ascontiguousarray(blocks)
    ggml_fn(name)(src.ctypes.data, out.ctypes.data, out.size)
    return out


def ggml_quant(qtype, x):
    bs, ts = GGML_QUANT_SIZES[qtype]
    out = np.zeros(x.size // bs * ts, dtype=np.uint8)  # zeroed as quant_dump does
    name = {T.F16: "ggml_fp32_to_fp16_row", T.BF16: "ggml_fp32_to_bf16_row_ref"}.get(
        qtype, "quantize_row_" + qtype.name.lower().replace("_k", "_K") + "_ref")
    x = np.ascontiguousarray(x, dtype=np.float32)
    ggml_fn(name)(x.ctypes.data, out.ctypes.data, x.size)
    return out


def q8_K_dequant_np(blocks):
    """Q8_K is not in gguf-py: float32 d, int8 qs[256], int16 bsums[16]."""
    b = blocks.reshape(-1, 292)
    d = b[:, 0:4].copy().view(np.float32)
    qs = b[:, 4:260].copy().view(np.int8).astype(np.float32)
    with np.errstate(all="ignore"):
        return (d * qs).ravel()


# ---- block generators ---------------------------------------------------

def random_finite_f16(rng, n):
    h = rng.integers(0, 1 << 16, size=n, dtype=np.uint32).astype(np.uint16)
    bad = (h & 0x7c00) == 0x7c00
    h[bad] &= 0xbfff  # clear the top exponent bit: finite
    return h


def random_finite_f32(rng, n):
    mag = rng.standard_normal(n) * 10.0 ** rng.uniform(-8, 8, n)
    return mag.astype(np.float32)


def make_blocks(rng, qtype):
    """Random blocks with finite scales, then edge blocks. uint8 (nblk, ts)."""
    bs, ts = GGML_QUANT_SIZES[qtype]
    if qtype in (T.F32, T.F16, T.BF16):
        if qtype == T.F32:
            r = rng.integers(0, 1 << 32, size=NBLOCKS * 32, dtype=np.uint64).astype(np.uint32)
            edge = np.array(EDGE_F32, dtype=np.float32).view(np.uint32)
            return np.concatenate([r, edge]).view(np.uint8).reshape(-1, ts)
        # every 16-bit pattern: exhaustive
        return np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.uint8).reshape(-1, ts)
    rand = rng.integers(0, 256, size=(NBLOCKS, ts), dtype=np.uint8)
    edges = []
    if qtype == T.Q8_K:
        rand[:, 0:4] = random_finite_f32(rng, NBLOCKS).view(np.uint8).reshape(-1, 4)
        for v in EDGE_F32 + [float(np.float32(6.1e-5)), -2.5]:
            for fill in (0x00, 0xff, 0x7f, 0x80, None):
                b = rng.integers(0, 256, size=ts, dtype=np.uint8) if fill is None \
                    else np.full(ts, fill, dtype=np.uint8)
                b[0:4] = np.array([v], dtype=np.float32).view(np.uint8)
                edges.append(b)
    else:
        offs = SCALE_OFFS[qtype]
        for o in offs:
            rand[:, o:o + 2] = random_finite_f16(rng, NBLOCKS).view(np.uint8).reshape(-1, 2)
        scale_sets = [[e] * len(offs) for e in EDGE_F16]
        if len(offs) == 2:  # mixed: finite d with bad min and vice versa
            scale_sets += [[0x3c00, e] for e in EDGE_F16] + [[e, 0x3c00] for e in EDGE_F16]
        for s in scale_sets:
            for fill in (0x00, 0xff, 0x55, 0xaa, None):
                b = rng.integers(0, 256, size=ts, dtype=np.uint8) if fill is None \
                    else np.full(ts, fill, dtype=np.uint8)
                for o, v in zip(offs, s):
                    b[o:o + 2] = np.array([v], dtype=np.uint16).view(np.uint8)
                edges.append(b)
    edges.append(np.zeros(ts, dtype=np.uint8))
    return np.concatenate([rand, np.stack(edges)])


def make_rows(rng, bs, nblk):
    """Float rows for quantisation: random scales per block plus edge blocks."""
    mags = (10.0 ** rng.uniform(-6, 4, size=(nblk, 1))).astype(np.float32)
    kinds = rng.integers(0, 4, size=(nblk, 1))
    g = rng.standard_normal((nblk, bs)).astype(np.float32)
    u = rng.uniform(-1, 1, (nblk, bs)).astype(np.float32)
    pos = np.abs(g)
    x = np.where(kinds == 0, g, np.where(kinds == 1, u, np.where(kinds == 2, pos, -pos))) * mags
    x = x.astype(np.float32)
    edges = [np.zeros(bs), np.full(bs, 1.0), np.full(bs, -3.0), np.full(bs, 65504.0),
             np.full(bs, 1e-7), np.full(bs, 6e-8),
             np.linspace(-8, 7, bs), np.linspace(-1, 1, bs), np.linspace(0, 15, bs),
             np.arange(bs) % 16 - 8.0, (np.arange(bs) % 16) * 0.5,
             np.where(np.arange(bs) == 3, 100.0, 0.0), np.where(np.arange(bs) == 5, -100.0, 1e-3),
             np.full(bs, 65504.0 * 127), np.linspace(-1e30, 1e30, bs),
             np.full(bs, 1.4e-45), np.linspace(-2e-38, 2e-38, bs),
             np.where(np.arange(bs) % 2 == 0, 127.5, -127.5)]
    return np.concatenate([x, np.stack(edges).astype(np.float32)]).ravel()


# ---- cases --------------------------------------------------------------

def check_dequant(rng, qtype):
    bs, ts = GGML_QUANT_SIZES[qtype]
    blocks = make_blocks(rng, qtype)
    ours = np.frombuffer(run_dump("deq", qtype, blocks), dtype=np.float32)
    nblk = blocks.shape[0]
    if qtype == T.Q8_K:
        ref, refname = q8_K_dequant_np(blocks), "numpy (Q8_K not in gguf-py)"
    else:
        with np.errstate(all="ignore"):
            ref = gq.dequantize(blocks.ravel(), qtype).ravel()
        refname = "gguf-py"
    bad = float_mismatch(ours, ref)
    tap(bad is not None and len(bad) == 0,
        f"dequantize {qtype.name} vs {refname}: {nblk} blocks bit-exact",
        "size mismatch" if bad is None else describe_float_diff(bad, ours, ref, bs))
    name = f"dequantize {qtype.name} vs ggml: {nblk} blocks bit-exact"
    if GGML is None:
        return
    ref = ggml_dequant(qtype, blocks.ravel())
    bad = float_mismatch(ours, ref)
    tap(bad is not None and len(bad) == 0, name,
        "size mismatch" if bad is None else describe_float_diff(bad, ours, ref, bs))


def bytes_diff(ours, ref, ts):
    ours = np.frombuffer(ours, dtype=np.uint8) if isinstance(ours, bytes) else ours.ravel()
    ref = ref.ravel()
    if ours.shape != ref.shape:
        return f"size {ours.size} vs {ref.size}"
    bad = np.flatnonzero(ours != ref)
    if len(bad) == 0:
        return None
    b = int(bad[0]) // ts
    nbad = len(np.unique(bad // ts))
    return (f"{nbad} of {ours.size // ts} blocks differ; first block {b}:\n"
            f"ours {ours[b * ts:(b + 1) * ts].tobytes().hex()}\n"
            f"ref  {ref[b * ts:(b + 1) * ts].tobytes().hex()}")


def check_quant_ggufpy(rng, qtype):
    bs, ts = GGML_QUANT_SIZES[qtype]
    nblk = max(NBLOCKS, 4096 // bs if bs > 1 else NBLOCKS)
    x = make_rows(rng, bs if bs > 1 else 32, nblk)
    ours = run_dump("q", qtype, x)
    with np.errstate(all="ignore"):
        ref = gq.quantize(x, qtype).view(np.uint8)
    d = bytes_diff(ours, ref, ts)
    tap(d is None, f"quantize {qtype.name} vs gguf-py: {x.size // bs} blocks bit-exact", d)


def nonfinite_rows(rng, bs):
    """Blocks with Inf/NaN among normal values: only ggml's C is a fair
    reference here (numpy's max treats NaN unlike ggml's MAX macro)."""
    rows = []
    for bad in (np.inf, -np.inf, np.nan):
        for where in (0, bs // 2, bs - 1):
            r = rng.standard_normal(bs).astype(np.float32)
            r[where] = bad
            rows.append(r)
        rows.append(np.full(bs, bad, dtype=np.float32))
    return np.concatenate(rows)


def check_quant_ggml(rng, qtype):
    bs, ts = GGML_QUANT_SIZES[qtype]
    nblk = NBLOCKS * (4 if qtype == T.Q4_K else 1)
    x = make_rows(rng, bs if bs > 1 else 32, nblk)
    x = np.concatenate([x, nonfinite_rows(rng, bs if bs > 1 else 32)])
    name = (f"quantize {qtype.name} vs ggml {qtype.name.lower()} ref: {x.size // bs} blocks "
            "(incl. Inf/NaN input) bit-exact")
    ours = run_dump("q", qtype, x)
    ref = ggml_quant(qtype, x)
    d = bytes_diff(ours, ref, ts)
    tap(d is None, name, d)


def check_q4_K_roundtrip(rng):
    """Reference-free check of Q4_K quantize: gguf-py decodes our blocks to
    within a tight error of gaussian input (ggml's algorithm gives ~0.09 rms
    relative error at 4.5 bits per weight)."""
    bs, ts = GGML_QUANT_SIZES[T.Q4_K]
    x = (rng.standard_normal(NBLOCKS * bs) * 10.0 ** rng.uniform(-3, 3, (NBLOCKS, 1)).repeat(bs, 1).ravel()).astype(np.float32)
    q = np.frombuffer(run_dump("q", T.Q4_K, x), dtype=np.uint8)
    y = gq.dequantize(q, T.Q4_K).ravel()
    xb, yb = x.reshape(-1, bs), y.reshape(-1, bs)
    rel = np.sqrt(((xb - yb) ** 2).mean(1)) / np.sqrt((xb ** 2).mean(1))
    # no element further than one 4-bit step of its super-block's range
    # (a sub-block whose 6-bit scale rounds coarsely can exceed its own step)
    step = (np.maximum(xb.max(1), 0) - np.minimum(xb.min(1), 0)) / 15
    err = np.abs(xb - yb).max(1)
    print(f"# Q4_K worst error / super-block step: {float((err / step).max()):.3f}")
    ok = rel.max() < 0.15 and rel.mean() < 0.11 and bool(np.all(err <= step))
    tap(ok, f"quantize Q4_K round trip via gguf-py dequantize: {NBLOCKS} blocks, "
        f"rms rel err mean {rel.mean():.4f} max {rel.max():.4f}",
        f"rel mean {rel.mean()} max {rel.max()}; step violations {int(np.sum(err > step))}")


def main():
    print(f"# seed {SEED} (QUANT_SEED), {NBLOCKS} random blocks per type")
    print(f"# ggml reference: {GGML_PATH or 'none (' + GGML_SKIP + ')'}")
    if not os.access(DUMP, os.X_OK):
        tap(False, f"helper {DUMP} exists", "build it with make")
        print(f"1..{case_no}")
        return 1
    rng = np.random.default_rng(SEED)
    for t in DEQ_TYPES:
        check_dequant(rng, t)
    for t in GGUFPY_QUANT:
        check_quant_ggufpy(rng, t)
    if GGML is None:
        tap(True, "bit-exact vs ggml's C: dequantize all types, quantize "
            + ", ".join(t.name for t in GGML_QUANT), skip=GGML_SKIP)
    else:
        for t in GGML_QUANT:
            check_quant_ggml(rng, t)
    check_q4_K_roundtrip(rng)
    print(f"1..{case_no}")
    return 1 if any_failed else 0


if __name__ == "__main__":
    sys.exit(main())
