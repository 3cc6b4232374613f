#!/bin/bash
# SPDX-License-Identifier: MIT
# Tokenize ~1 MB of deterministic mixed text with rosenblatt-tokenize and with
# the reference (transformers.js via @lenml/tokenizers); print both times,
# the ratio, and whether the ids agree.
# Usage: scripts/bench-tokenizer.sh BUILD_DIR VOCAB.gguf
set -euo pipefail
build=${1:-build}
vocab=${2:-$build/qwen2-vocab.gguf}
tool=$build/rosenblatt-tokenize
dir=$build/bench-tokenizer
mkdir -p "$dir"

python3 - "$dir/input.txt" <<'PY'
import random, sys
r = random.Random(20240601)
words = ("the of and to in is that for it as with was on be by this are from at or an "
         "model tokenizer kernel matrix inference quantized tensor buffer register driver "
         "Rosenblatt NPU RK3588 GGUF Qwen2 attention").split()
cjk = "我们今天去公园散步天气非常好数据模型训练推理中文日本語のテキストです한국어텍스트입니다"
emoji = ["🙂", "🚀", "👍🏽", "👨\u200d👩\u200d👧", "🇯🇵", "❤️"]
code = ['def f(x):\n    return x * 2\n', 'for (int i = 0; i < n; i++) {\n\tsum += a[i];\n}\n',
        '{"key": "value", "n": [1, 2, 3]}\n', "if err != nil {\n\treturn err\n}\n"]
out, size = [], 0
while size < 1_000_000:
    k = r.random()
    if k < 0.55:
        s = " ".join(r.choice(words) for _ in range(r.randint(5, 20)))
        s = s.capitalize() + r.choice([". ", ", ", "! ", "? ", ".\n", ".\n\n"])
    elif k < 0.7:
        s = "".join(r.choice(cjk) for _ in range(r.randint(5, 30))) + "。"
    elif k < 0.8:
        s = r.choice(code)
    elif k < 0.88:
        s = " ".join(str(r.randint(0, 10 ** r.randint(1, 12))) for _ in range(r.randint(1, 6))) + " "
    elif k < 0.94:
        s = r.choice(emoji) + " "
    else:
        s = r.choice(["Café résumé naïve ", "Привет мир ", "مرحبا بالعالم ", "  \t  ", "I'M HERE, YOU'RE THERE "])
    out.append(s)
    size += len(s.encode())
open(sys.argv[1], "w", encoding="utf-8").write("".join(out))
PY
bytes=$(stat -c %s "$dir/input.txt")

now() { date +%s.%N; }
# Ours: whole process (load + encode), and the load alone (empty input).
t0=$(now); "$tool" -m "$vocab" <"$dir/input.txt" >"$dir/ours.ids"; t1=$(now)
"$tool" -m "$vocab" </dev/null >/dev/null; t2=$(now)
ours_total=$(python3 -c "print($t1 - $t0)")
ours_load=$(python3 -c "print($t2 - $t1)")
ours_enc=$(python3 -c "print($ours_total - $ours_load)")

ref=$(node scripts/tokenizer-ref.mjs --bench "$dir/input.txt" "$dir/ref.ids")
ref_ms=$(echo "$ref" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ms"])')
ref_n=$(echo "$ref" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ids"])')
ours_n=$(wc -w <"$dir/ours.ids")

printf 'input:      %d bytes of mixed text (%s)\n' "$bytes" "$dir/input.txt"
printf 'ours:       %.3f s encode (%.3f s with loading the vocab), %d ids\n' "$ours_enc" "$ours_total" "$ours_n"
printf 'reference:  %.3f s encode (transformers.js, vocab load not counted), %d ids\n' \
	"$(python3 -c "print($ref_ms / 1000)")" "$ref_n"
printf 'ratio:      reference / ours = %.1fx (encode only)\n' "$(python3 -c "print($ref_ms / 1000 / $ours_enc)")"
if cmp -s "$dir/ours.ids" "$dir/ref.ids"; then
	echo "ids:        identical"
else
	echo "ids:        DIFFER (see $dir/ours.ids and $dir/ref.ids)"
	exit 1
fi
