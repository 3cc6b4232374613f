#!/bin/bash
# SPDX-License-Identifier: MIT
# rosenblatt-gen against llama-bench on the same model and threads.
#   scripts/bench-model.sh BUILD_DIR MODEL [THREADS] [N_PROMPT] [N_GEN] [ROUNDS] [GEN_FLAGS]
# Prompt processing: N_PROMPT tokens in one batch; generation: N_GEN tokens
# one at a time (llama-bench pp/tg). The two programs run alternately,
# ROUNDS times each (default 3), so machine load hits both alike; prints
# the median tok/s of each, the ratios (of the medians, and the median of
# the rounds' own ratios), and each program's peak memory
# (max RSS of the process, from wait4) and that ratio.
# Both get a context of N_PROMPT + N_GEN (+1 for ours), as llama-bench
# sizes it. GEN_FLAGS are extra rosenblatt-gen flags (default none).
# Not a test: numbers depend on the machine and on what else runs on it.
set -euo pipefail
BUILD=$1 MODEL=$2 T=${3:-2} NP=${4:-64} NG=${5:-32} ROUNDS=${6:-3} FLAGS=${7:-}
LB=.deps/llama/build/bin/llama-bench
GEN=$BUILD/rosenblatt-gen
[ -x "$LB" ] || { echo "bench: $LB missing (scripts/deps-llama.sh)" >&2; exit 1; }
[ -x "$GEN" ] || { echo "bench: $GEN missing (make)" >&2; exit 1; }

exec python3 - "$LB" "$GEN" "$MODEL" "$T" "$NP" "$NG" "$ROUNDS" "$FLAGS" <<'EOF'
import csv, io, os, re, statistics, sys

lb, gen, model, t, np_, ng, rounds, flags = sys.argv[1:]
np_, ng, rounds = int(np_), int(ng), int(rounds)


def run_rss(cmd):
    """output and max RSS (KiB) of cmd: fork/exec + wait4 for its own rusage"""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.dup2(w, 1)
        os.dup2(w, 2)
        os.close(r)
        try:
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    os.close(w)
    chunks = []
    while True:
        b = os.read(r, 65536)
        if not b:
            break
        chunks.append(b)
    os.close(r)
    _, status, ru = os.wait4(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"bench: {cmd[0]} failed:\n{text[-2000:]}")
    return text, ru.ru_maxrss


ids = " ".join(str(100 + (i * 7919) % 20000) for i in range(np_))
lcmd = [lb, "-m", model, "-t", t, "-p", str(np_), "-n", str(ng), "-r", "1", "-o", "csv"]
gcmd = [gen, "-m", model, "-t", t, "-c", str(np_ + ng + 1), "--prompt-ids", ids,
        "-n", str(ng + 1), "--temp", "0", "--ignore-eos", "--ids"] + flags.split()
res = {"llama": {"pp": [], "tg": [], "rss": []}, "ours": {"pp": [], "tg": [], "rss": []}}
for i in range(rounds):
    text, rss = run_rss(lcmd)
    rows = [l for l in text.splitlines() if l.startswith("build_commit") or l.startswith('"')]
    for row in csv.DictReader(io.StringIO("\n".join(rows))):
        res["llama"]["pp" if int(row["n_prompt"]) > 0 else "tg"].append(float(row["avg_ts"]))
    res["llama"]["rss"].append(rss)
    text, rss = run_rss(gcmd)
    m = re.search(r"prompt \d+ tok in [0-9.]+ ms \(([0-9.]+) tok/s\) \| gen \d+ tok in [0-9.]+ ms "
                  r"\(([0-9.]+) tok/s\)", text)
    if not m:
        sys.exit("bench: no timing line from rosenblatt-gen:\n" + text[-2000:])
    res["ours"]["pp"].append(float(m.group(1)))
    res["ours"]["tg"].append(float(m.group(2)))
    res["ours"]["rss"].append(rss)
    print(f"bench: round {i + 1}: llama.cpp pp {res['llama']['pp'][-1]:.2f} tg {res['llama']['tg'][-1]:.2f}"
          f" rss {res['llama']['rss'][-1] / 1024:.0f} MiB | rosenblatt pp {res['ours']['pp'][-1]:.2f}"
          f" tg {res['ours']['tg'][-1]:.2f} rss {res['ours']['rss'][-1] / 1024:.0f} MiB", flush=True)

med = {k: {q: statistics.median(v[q]) for q in v} for k, v in res.items()}
print(f"bench: {os.path.basename(model)}, {t} threads, median of {rounds} alternating rounds"
      + (f", rosenblatt-gen {flags}" if flags else ""))
for key, label in (("pp", f"prompt pp{np_}"), ("tg", f"gen    tg{ng}")):
    # each round's own ratio too: the two runs of a round share the machine's
    # state of the moment, so their ratio drifts less than either speed
    paired = sorted(o / l for o, l in zip(res["ours"][key], res["llama"][key]))
    print(f"bench: {label:<12} llama.cpp {med['llama'][key]:8.2f} tok/s  rosenblatt "
          f"{med['ours'][key]:8.2f} tok/s  ratio {med['ours'][key] / med['llama'][key]:.2f}"
          f"  (per round: median {statistics.median(paired):.2f}, range {paired[0]:.2f}-{paired[-1]:.2f})")
print(f"bench: peak memory   llama.cpp {med['llama']['rss'] / 1024:8.1f} MiB   rosenblatt "
      f"{med['ours']['rss'] / 1024:8.1f} MiB   ratio {med['ours']['rss'] / med['llama']['rss']:.2f}")
EOF
