#!/bin/bash
# SPDX-License-Identifier: MIT
# rosenblatt-gen against llama-bench on the same model and threads.
#   scripts/bench-model.sh BUILD_DIR MODEL [THREADS] [N_PROMPT] [N_GEN]
# Prompt processing: N_PROMPT tokens in one batch; generation: N_GEN tokens
# one at a time (llama-bench pp/tg). Prints tok/s of both and the ratio.
# Not a test: numbers depend on the machine and on what else runs on it.
set -euo pipefail
BUILD=$1 MODEL=$2 T=${3:-$(nproc)} NP=${4:-64} NG=${5:-32}
LB=.deps/llama/build/bin/llama-bench
GEN=$BUILD/rosenblatt-gen
[ -x "$LB" ] || { echo "bench: $LB missing (scripts/deps-llama.sh)" >&2; exit 1; }

# llama.cpp: median of 3 runs each
read -r lpp ltg < <("$LB" -m "$MODEL" -t "$T" -p "$NP" -n "$NG" -r 3 -o csv 2>/dev/null |
	python3 -c '
import csv, sys
r = {}
for row in csv.DictReader(sys.stdin):
    key = "pp" if int(row["n_prompt"]) > 0 else "tg"
    r[key] = float(row["avg_ts"])
print(r["pp"], r["tg"])')

# ours: the same token counts, ids instead of text, best of 3
ids=$(python3 -c "print(' '.join(str(100 + (i * 7919) % 20000) for i in range($NP)))")
best_pp=0 best_tg=0
for _ in 1 2 3; do
	line=$("$GEN" -m "$MODEL" -t "$T" --prompt-ids "$ids" -n $((NG + 1)) --temp 0 --ignore-eos \
		--ids 2>&1 >/dev/null | grep '^timing:')
	pp=$(echo "$line" | sed -E 's/.*prompt [0-9]+ tok in [0-9.]+ ms \(([0-9.]+) tok\/s\).*/\1/')
	tg=$(echo "$line" | sed -E 's/.*gen [0-9]+ tok in [0-9.]+ ms \(([0-9.]+) tok\/s\).*/\1/')
	best_pp=$(python3 -c "print(max($best_pp, $pp))")
	best_tg=$(python3 -c "print(max($best_tg, $tg))")
done
printf 'bench: %s, %s threads\n' "$(basename "$MODEL")" "$T"
printf 'bench: prompt pp%-4d  llama.cpp %8.2f tok/s  rosenblatt %8.2f tok/s  ratio %.2f\n' \
	"$NP" "$lpp" "$best_pp" "$(python3 -c "print($best_pp / $lpp)")"
printf 'bench: gen    tg%-4d  llama.cpp %8.2f tok/s  rosenblatt %8.2f tok/s  ratio %.2f\n' \
	"$NG" "$ltg" "$best_tg" "$(python3 -c "print($best_tg / $ltg)")"
