#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/rocket_matmul_fuzz.c into
fuzz/corpus/rocket_matmul/ (input format: fuzz/rocket_matmul_fuzz.h). Run
from the repository root. tests/test_rocket_matmul.c checks what each named
seed reaches (errno, elements, jobs, tasks)."""
import struct, os
out = 'fuzz/corpus/rocket_matmul'
I8, F16, I32, F32 = 1, 2, 3, 4
def mm(a=1, b=2, c=3, bias=0, ao=0, bo=0, co=0, bio=0, m=4, k=32, n=32,
       it=I8, wt=None, ot=I32, ars=0, crs=0, flags=0, pad=0):
    wt = it if wt is None else wt
    return struct.pack('<4I4Q3I3I2I2I', a, b, c, bias, ao, bo, co, bio, m, k, n,
                       it, wt, ot, ars, crs, flags, pad)
assert len(mm()) == 88
def seed(name, elems, bos, cores=3, stride=88, flags=0, pad=0, count=None,
         matmuls=0, absolute=0, regcmd=0x00f00000, tail=b'', trunc=None):
    count = len(elems) if count is None else count
    h = struct.pack('<BBBBIIIIIQ', cores, len(bos), absolute, 0, count, stride,
                    flags, pad, regcmd, matmuls)
    for s, d in bos + [(0, 0)] * (8 - len(bos)):
        h += struct.pack('<QQ', s, d)
    assert len(h) == 160
    mem = b''
    for e in elems:
        el = e + tail
        el = el + b'\0' * (stride - len(el))
        mem += el[:stride]
    if trunc is not None:
        mem = mem[:trunc]
    open(os.path.join(out, name), 'wb').write(h + mem)
MB = 1 << 20
small = [(MB, 0x00100000), (MB, 0x00200000), (MB, 0x00300000), (4096, 0x00400000)]
seed('int8-4x32x32', [mm()], small)
seed('int8-m1', [mm(m=1, k=64, n=64)], small, cores=1)
seed('fp16-fp32-3elems-stride128', [mm(it=F16, ot=F32, m=8, k=64, n=16),
     mm(it=F16, ot=F16, m=4, k=32, n=32, co=4096), mm(m=12, k=96, n=64, co=8192)],
     small, stride=128, cores=0)
big = [(16 * MB, 0x01000000), (16 * MB, 0x02000000), (16 * MB, 0x03000000)]
seed('split-by-m', [mm(m=1024, k=1024, n=512)], big)
seed('split-by-n', [mm(m=4, k=4096, n=2048)], big)
seed('no-split-flag', [mm(m=1024, k=1024, n=512, flags=1)], big, cores=2)
seed('split-flag-small', [mm(m=1, k=256, n=96, flags=2)], small)
seed('split-and-no-split', [mm(flags=3)], small)
seed('fp16-n-tiles', [mm(it=F16, ot=F16, m=1, k=32, n=16384)], big, cores=1)
seed('m-tiles-fp16', [mm(it=F16, ot=F32, m=1000, k=8192, n=32)], big, cores=1)
seed('shared-bo', [mm(a=1, b=1, c=2, ao=0, bo=MB, m=4, k=64, n=64)], big)
seed('bias', [mm(bias=4)], small)
seed('nonzero-tail', [mm()], small, stride=96, tail=b'\0' * 7 + b'\1')
seed('unmapped-tail', [mm()], small, stride=200, trunc=150)
seed('pointer-wraps', [mm()], small, absolute=1, matmuls=(1 << 64) - 100)
seed('unknown-handle', [mm(c=9)], small)
seed('c-overlaps-a', [mm(a=1, c=1, co=64)], small)
seed('past-4gib', [mm(m=4, k=32, n=32, co=8192)], [(MB, 0xfff00000), (MB, 0x200000), (2 * MB, 0xffffe000)])
seed('job-too-big', [mm(m=65536, k=16384, n=32, flags=1)], [(1 << 30, 0), (MB, 0x40000000), (8 * MB, 0x50000000)])
seed('header-bad-flags', [mm()], small, flags=1)
seed('count-zero', [], small, count=0)
seed('max-elems', [mm(co=512 * i) for i in range(64)], small)
seed('pointer-wraps-stride', [mm()], small, absolute=1, matmuls=(1 << 64) - 48)
seed('fp16-k-16384', [mm(it=F16, ot=F32, m=4, k=16384, n=16)], big)
seed('job-too-many-macs', [mm(m=8192, k=1024, n=8192, flags=1)],
     [(8 * MB, 0x01000000), (8 * MB, 0x02000000), (256 * MB, 0x10000000)])
seed('job-too-much-traffic', [mm(it=F16, ot=F32, m=1000, k=16384, n=1024, flags=1)],
     [(64 * MB, 0x01000000), (32 * MB, 0x08000000), (32 * MB, 0x10000000)])
