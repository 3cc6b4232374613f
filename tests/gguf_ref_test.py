#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-check the C GGUF reader against the gguf Python package.

Random GGUF files (every metadata type, nested arrays, odd alignments, every
tensor type the writer can size, v2 and v3) are written with gguf.GGUFWriter,
read back with gguf.GGUFReader and with build/tests/gguf_dump, and compared:
keys, types, values (floats bit for bit), tensor shapes, types, offsets,
sizes and data. Prints TAP.
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np

try:
    import gguf
except ImportError:
    print("1..1\nok 1 - gguf reference # SKIP gguf Python package not installed (make deps-ref)")
    sys.exit(0)

BUILD = os.environ.get("ROSENBLATT_BUILD", os.path.join(os.path.dirname(__file__), "..", "build"))
DUMP = os.path.join(BUILD, "tests", "gguf_dump")
VT = gguf.GGUFValueType
SEED = int(os.environ.get("GGUF_TEST_SEED", "1234"))

case_no = 0
failed = False


def tap(ok, name, why=""):
    global case_no, failed
    case_no += 1
    print(f"{'ok' if ok else 'not ok'} {case_no} - {name}")
    if not ok:
        failed = True
        for line in why.splitlines()[:20]:
            print(f"#   {line}")
    sys.stdout.flush()


INT_RANGES = {
    VT.UINT8: (0, 2**8 - 1), VT.INT8: (-2**7, 2**7 - 1),
    VT.UINT16: (0, 2**16 - 1), VT.INT16: (-2**15, 2**15 - 1),
    VT.UINT32: (0, 2**32 - 1), VT.INT32: (-2**31, 2**31 - 1),
    VT.UINT64: (0, 2**64 - 1), VT.INT64: (-2**63, 2**63 - 1),
}


def rand_str(rng):
    pool = ["", "a", "qwen2", "héllo", "日本語", "emoji 🙂", "tab\tnl\n", "x" * 300, "\x00inner nul"]
    if rng.random() < 0.5:
        return rng.choice(pool)
    return "".join(chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0xa0, 0x2fff)]))
                   for _ in range(rng.randint(0, 40)))


def rand_scalar(rng, t):
    if t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        return rng.choice([lo, hi, 0, rng.randint(lo, hi)])
    if t == VT.BOOL:
        return rng.random() < 0.5
    if t == VT.FLOAT32:
        return float(np.float32(rng.choice([0.0, -0.0, 1e-45, 3.4e38, float("inf"), rng.uniform(-1e6, 1e6)])))
    if t == VT.FLOAT64:
        return rng.choice([0.0, 5e-324, 1.7e308, float("-inf"), rng.uniform(-1e300, 1e300)])
    if t == VT.STRING:
        return rand_str(rng)
    raise ValueError(t)


SCALARS = [VT.UINT8, VT.INT8, VT.UINT16, VT.INT16, VT.UINT32, VT.INT32, VT.FLOAT32,
           VT.BOOL, VT.STRING, VT.UINT64, VT.INT64, VT.FLOAT64]


def rand_array(rng, depth):
    """Return (elem_type, items); items of nested arrays are (elem_type, items)."""
    if depth < 2 and rng.random() < 0.25:
        inner = [rand_array(rng, depth + 1) for _ in range(rng.randint(0, 3))]
        return (VT.ARRAY, inner)
    t = rng.choice(SCALARS)
    return (t, [rand_scalar(rng, t) for _ in range(rng.randint(0, 12))])


def pack_scalar(t, v, endian="<"):
    if t == VT.STRING:
        b = v.encode("utf-8", "surrogatepass")
        return struct.pack(endian + "Q", len(b)) + b
    fmt = {VT.UINT8: "B", VT.INT8: "b", VT.UINT16: "H", VT.INT16: "h", VT.UINT32: "I",
           VT.INT32: "i", VT.FLOAT32: "f", VT.BOOL: "?", VT.UINT64: "Q", VT.INT64: "q",
           VT.FLOAT64: "d"}[t]
    return struct.pack(endian + fmt, v)


def pack_array(et, items):
    out = struct.pack("<IQ", int(et), len(items))
    for it in items:
        out += pack_array(*it) if et == VT.ARRAY else pack_scalar(et, it)
    return out


# Types whose byte size the writer derives from a raw uint8 buffer shape.
TENSOR_TYPES = [gguf.GGMLQuantizationType[n] for n in
                ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K",
                 "Q4_K", "Q5_K", "Q6_K", "Q8_K", "IQ4_NL", "IQ4_XS", "I8", "I16", "I32", "F64"]]


def build_file(rng, path, version):
    """Write a GGUF by hand (so v2 and nested arrays are under our control) and
    return the expected structure. gguf.GGUFReader then reads it too."""
    alignment = rng.choice([None, 1, 8, 32, 64, 256])
    kvs = []
    keys = set()
    if alignment is not None:
        kvs.append(("general.alignment", VT.UINT32, alignment))
        keys.add("general.alignment")
    for _ in range(rng.randint(0, 25)):
        k = "k." + rand_str(rng).replace("\x00", "") + str(len(keys))
        if k in keys:
            continue
        keys.add(k)
        if rng.random() < 0.3:
            kvs.append((k, VT.ARRAY, rand_array(rng, 0)))
        else:
            t = rng.choice(SCALARS)
            kvs.append((k, t, rand_scalar(rng, t)))
    align = alignment or 32
    tensors = []
    offset = 0
    for i in range(rng.randint(0, 8)):
        qt = rng.choice(TENSOR_TYPES)
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        n_dims = rng.randint(1, 4)
        ne = [bs * rng.randint(1, 3)] + [rng.randint(1, 3) for _ in range(n_dims - 1)]
        nbytes = ts * (ne[0] // bs) * int(np.prod(ne[1:], dtype=np.int64))
        data = bytes(rng.getrandbits(8) for _ in range(nbytes))
        tensors.append({"name": f"blk.{i}.w" + rand_str(rng).replace("\x00", "")[:20],
                        "ne": ne, "type": int(qt), "offset": offset, "nbytes": nbytes, "data": data})
        offset += (nbytes + align - 1) // align * align

    out = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kvs))
    for k, t, v in kvs:
        out += pack_scalar(VT.STRING, k) + struct.pack("<I", int(t))
        out += pack_array(*v) if t == VT.ARRAY else pack_scalar(t, v)
    for t in tensors:
        out += pack_scalar(VT.STRING, t["name"]) + struct.pack("<I", len(t["ne"]))
        out += b"".join(struct.pack("<Q", d) for d in t["ne"])
        out += struct.pack("<IQ", t["type"], t["offset"])
    data_offset = (len(out) + align - 1) // align * align
    out += b"\0" * (data_offset - len(out))
    for t in tensors:
        out += b"\0" * (data_offset + t["offset"] - len(out)) + t["data"]
    with open(path, "wb") as f:
        f.write(out)
    return {"version": version, "alignment": align, "data_offset": data_offset,
            "kvs": kvs, "tensors": tensors}


def norm_float(x):
    if isinstance(x, str):
        if x in ("nan", "inf", "-inf"):
            return float(x)
        return float.fromhex(x)
    return float(x)


def same_value(t, exp, got):
    if t == VT.ARRAY:
        et, items = exp
        if got["elem"] != int(et) or len(got["items"]) != len(items):
            return False
        if et == VT.ARRAY:
            return all(same_value(VT.ARRAY, e, {"elem": g["elem"], "items": g["items"]})
                       for e, g in zip(items, got["items"]))
        return all(same_value(et, e, g) for e, g in zip(items, got["items"]))
    if t == VT.STRING:
        return bytes.fromhex(got) == exp.encode("utf-8", "surrogatepass")
    if t in (VT.FLOAT32, VT.FLOAT64):
        a, b = norm_float(got), float(exp)
        return (a != a and b != b) or struct.pack("<d", a) == struct.pack("<d", b)
    if t == VT.BOOL:
        return got == int(exp)
    return got == exp


def fnv1a(b):
    h = 0xcbf29ce484222325
    for x in b:
        h = ((h ^ x) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def compare(path, exp):
    r = subprocess.run([DUMP, path], capture_output=True, text=True)
    if r.returncode != 0:
        return f"gguf_dump failed ({r.returncode}): {r.stdout} {r.stderr}"
    got = json.loads(r.stdout)
    for k in ("version", "alignment", "data_offset"):
        if got[k] != exp[k]:
            return f"{k}: got {got[k]}, expected {exp[k]}"
    if len(got["kv"]) != len(exp["kvs"]):
        return f"kv count {len(got['kv'])} != {len(exp['kvs'])}"
    for (k, t, v), (gk, gt, gv) in zip(exp["kvs"], got["kv"]):
        if bytes.fromhex(gk) != k.encode("utf-8", "surrogatepass") or gt != int(t):
            return f"key/type mismatch at {k!r}: got {bytes.fromhex(gk)!r} type {gt}"
        if not same_value(t, v, gv):
            return f"value mismatch at {k!r} ({t.name}): got {gv!r}, expected {v!r}"
    # The independent reader must agree on tensors too.
    reader = gguf.GGUFReader(path)
    if len(reader.tensors) != len(got["tensors"]):
        return f"tensor count {len(got['tensors'])} != gguf.GGUFReader's {len(reader.tensors)}"
    for rt, gt, et in zip(reader.tensors, got["tensors"], exp["tensors"]):
        ne = list(et["ne"]) + [1] * (4 - len(et["ne"]))
        if bytes.fromhex(gt["name"]).decode() != rt.name or gt["ne"] != ne or gt["n_dims"] != len(et["ne"]):
            return f"tensor {rt.name}: name/shape {gt} vs {et['ne']}"
        if gt["type"] != int(rt.tensor_type) or gt["nbytes"] != int(rt.n_bytes):
            return f"tensor {rt.name}: type/nbytes {gt['type']}/{gt['nbytes']} vs {int(rt.tensor_type)}/{rt.n_bytes}"
        if exp["data_offset"] + gt["offset"] != int(rt.data_offset):
            return f"tensor {rt.name}: data at {exp['data_offset'] + gt['offset']} vs reader {rt.data_offset}"
        if gt["fnv"] != fnv1a(et["data"]) or not gt["found"]:
            return f"tensor {rt.name}: data hash or lookup differs"
    return None


def main():
    if not os.access(DUMP, os.X_OK):
        tap(False, "gguf_dump helper built", f"{DUMP} missing")
        print(f"1..{case_no}")
        return 1
    rng = random.Random(SEED)
    print(f"# seed {SEED}")
    with tempfile.TemporaryDirectory() as d:
        # Random files, v2 and v3.
        for version in (2, 3):
            bad = []
            for i in range(60):
                p = os.path.join(d, f"r{version}_{i}.gguf")
                exp = build_file(rng, p, version)
                err = compare(p, exp)
                if err:
                    bad.append(f"file {i}: {err}")
            tap(not bad, f"random v{version} files match the reference (60 files)", "\n".join(bad))

        # A file written by gguf.GGUFWriter itself, with real tensors.
        p = os.path.join(d, "writer.gguf")
        w = gguf.GGUFWriter(p, "qwen2")
        w.add_uint32("qwen2.block_count", 2)
        w.add_float32("qwen2.rope.freq_base", 1000000.0)
        w.add_token_list(["a", "b", "ab"])
        w.add_array("tokenizer.ggml.merges", ["a b"])
        w.add_tensor("token_embd.weight", np.arange(48, dtype=np.float32).reshape(3, 16))
        w.add_tensor("output_norm.weight", np.ones(16, dtype=np.float16))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        r = subprocess.run([DUMP, p], capture_output=True, text=True)
        ok = r.returncode == 0
        why = r.stdout + r.stderr
        if ok:
            got = json.loads(r.stdout)
            reader = gguf.GGUFReader(p)
            names = [bytes.fromhex(t["name"]).decode() for t in got["tensors"]]
            ok = names == [t.name for t in reader.tensors] and \
                [t["offset"] + got["data_offset"] for t in got["tensors"]] == [int(t.data_offset) for t in reader.tensors]
            why = f"{names} vs {[t.name for t in reader.tensors]}"
        tap(ok, "file from gguf.GGUFWriter reads back as gguf.GGUFReader sees it", why)

        # Truncation at every byte of a small file: a clean error, never a crash.
        exp = build_file(random.Random(7), p, 3)
        data = open(p, "rb").read()
        bad = []
        for cut in range(len(data)):
            q = os.path.join(d, "cut.gguf")
            with open(q, "wb") as f:
                f.write(data[:cut])
            r = subprocess.run([DUMP, q], capture_output=True, text=True)
            # Cutting only alignment padding after the last tensor is still a valid file.
            if r.returncode == 0 and cut >= exp["data_offset"] + max((t["offset"] + t["nbytes"] for t in exp["tensors"]), default=0):
                continue
            if r.returncode != 1 or "error" not in r.stdout:
                bad.append(f"cut at {cut}: rc {r.returncode} {r.stdout[:200]} {r.stderr[:200]}")
            else:
                msg = bytes.fromhex(json.loads(r.stdout)["error"]).decode()
                if not msg.startswith(q + ": ") or "offset" not in msg:
                    bad.append(f"cut at {cut}: message lacks file/offset: {msg}")
        tap(not bad, f"every truncation of a {len(data)}-byte file is a clean error naming file and offset", "\n".join(bad[:10]))
    print(f"1..{case_no}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
