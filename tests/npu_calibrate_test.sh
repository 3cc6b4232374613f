#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# npu-calibrate and npu-perf-model --calibrated (`make calibrate`): clear
# errors without a device and on bad usage; on the emulated device a whole
# run whose flags npu-perf-model takes; every calibration flag of
# npu-perf-model changes its prediction, and the model's own assumptions fed
# back as "measurements" give the assumed scenario B's figures exactly.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
build=${ROSENBLATT_BUILD:-$root/build}
cal=$build/npu-calibrate
pm=$build/npu-perf-model
shim=$build/librocket-shim.so
. "$root/scripts/shim-preload.sh"
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
fail() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/#   /' "$2" | head -20; }
check() { if eval "$2"; then ok "$1"; else fail "$1" "${3:-}"; fi; }

# no device: a rocket device is looked for and a clear reason given
ROCKET_ACCEL_DEV=/dev/null "$cal" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "not a rocket device: exit 1 with the reason" \
	'[ $rc -eq 1 ] && grep -q "/dev/null is not a rocket NPU device" "$tmp/err" && [ ! -s "$tmp/out" ]' "$tmp/err"
ROCKET_ACCEL_DEV=/nonexistent/accel0 "$cal" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "missing device node: exit 1 with the reason" \
	'[ $rc -eq 1 ] && grep -q "cannot open /nonexistent/accel0" "$tmp/err"' "$tmp/err"
for bad in "--reps 0" "--reps x" "--threads 0" "--npu-mhz -5" "--bogus" "--device"; do
	# shellcheck disable=SC2086
	"$cal" $bad >"$tmp/out" 2>"$tmp/err"
	rc=$?
	check "bad usage '$bad': exit 2 and a message" '[ $rc -eq 2 ] && [ -s "$tmp/err" ]' "$tmp/err"
done
"$cal" --help >"$tmp/out" 2>&1
rc=$?
check "--help: exit 0, documents every option" \
	'[ $rc -eq 0 ] && for o in --device --reps --quick --threads --npu-mhz --flags-only; do grep -q -- "$o" "$tmp/out" || exit 1; done' "$tmp/out"

# the model's assumptions as "measurements": scenario B, figure for figure
"$pm" --model qwen2.5-1.5b >"$tmp/assumed" 2>&1
base_flags="--npu-mhz 200 --ioctl-us 40 --job-us 30 --task-us 10 --wait-us 5 --macs-per-cycle 1024 --dma-core 28.8 --dram 28.8 --cpu-quant-ns 1 --cpu-unpack-ns 1 --cpu-rows 10"
# shellcheck disable=SC2086
"$pm" --model qwen2.5-1.5b --calibrated "assumptions" $base_flags >"$tmp/cal" 2>&1
b_dec=$(grep -m1 "^  B: mainline clock" -A0 "$tmp/assumed" | sed -n 's/.*decode *\([0-9.]*\) tok.*prefill *\([0-9.]*\) tok.*/\1 \2/p')
c_dec=$(sed -n 's/^  decode \([0-9.]*\) tok.*prefill 128 tokens \([0-9.]*\) tok.*/\1 \2/p' "$tmp/cal")
# the first "B:" line is the separate-descriptor variant; the fused one is the second
b_fused=$(grep "^  B: mainline clock" "$tmp/assumed" | sed -n '2s/.*decode *\([0-9.]*\) tok.*prefill *\([0-9.]*\) tok.*/\1 \2/p')
check "calibrated with the assumed unit times = scenario B (fused): $c_dec" \
	'[ -n "$c_dec" ] && [ "$c_dec" = "$b_fused" ] && [ "$b_dec" != "" ]' "$tmp/cal"
b_share=$(grep "<- assumed rate" "$tmp/assumed" | awk '{print $4, $5, $6, $7, $8, $9}')
c_share=$(sed -n 's/.*--npu-cpu-share): 0.0: \([0-9.]*\), 0.2: \([0-9.]*\), 0.3: \([0-9.]*\), 0.4: \([0-9.]*\), 0.5: \([0-9.]*\), 0.6: \([0-9.]*\) tok.*/\1 \2 \3 \4 \5 \6/p' "$tmp/cal")
check "calibrated row-share sweep = the assumed one: $c_share" \
	'[ -n "$c_share" ] && [ "$c_share" = "$b_share" ]' "$tmp/cal"

# every flag is used: a worse unit time must lower the prediction
figures() { grep -E "^  decode |--npu-cpu-share\)|^    none 1.00" "$1"; }
for change in "--ioctl-us 400" "--job-us 300" "--task-us 100" "--wait-us 50" "--macs-per-cycle 64" \
	"--dma-core 2" "--dram 5" "--cpu-quant-ns 50" "--cpu-unpack-ns 50" "--cpu-rows 1" "--npu-mhz 20"; do
	# shellcheck disable=SC2086
	"$pm" --model qwen2.5-1.5b --calibrated "assumptions" $base_flags $change >"$tmp/changed" 2>&1
	check "npu-perf-model uses $change" \
		'[ -n "$(figures "$tmp/changed")" ] && [ "$(figures "$tmp/changed")" != "$(figures "$tmp/cal")" ]' "$tmp/changed"
done
"$pm" --calibrated x --ioctl-us -1 >"$tmp/out" 2>&1
rc=$?
check "npu-perf-model: a negative unit time is refused (exit 2)" '[ $rc -eq 2 ]' "$tmp/out"

# a whole run on the emulated device, its flags into the model
if [ ! -f "$shim" ]; then
	n=$((n + 1)); echo "ok $n - emulated run # SKIP no $shim"
else
	LD_PRELOAD=$(shim_preload "$shim") "$cal" --quick -t 2 >"$tmp/emu" 2>"$tmp/err"
	rc=$?
	check "emulated device: exit 0, says EMULATED, 8 probe rows" \
		'[ $rc -eq 0 ] && grep -q "^EMULATED DEVICE" "$tmp/emu" && [ "$(grep -cE "^(latency|tasks|dma|dram|compute)" "$tmp/emu")" -eq 8 ]' "$tmp/emu"
	flags=$(sed -n '/^npu-perf-model flags:$/{n;p;}' "$tmp/emu")
	check "emulated device: a flags line with the measured unit times" \
		'echo "$flags" | grep -q -- "--ioctl-us [0-9.]* --job-us [0-9.]* --task-us [0-9.]* --wait-us 0" && echo "$flags" | grep -q -- "--dram [0-9.]*" && echo "$flags" | grep -q -- "--cpu-rows [0-9.]*"' "$tmp/emu"
	LD_PRELOAD=$(shim_preload "$shim") "$cal" --quick -t 2 --flags-only >"$tmp/only" 2>"$tmp/err"
	rc=$?
	check "--flags-only: stdout is just the flags line" \
		'[ $rc -eq 0 ] && [ "$(wc -l <"$tmp/only")" -eq 1 ] && grep -q "^--npu-mhz 200 --ioctl-us" "$tmp/only" && grep -q "^EMULATED" "$tmp/err"' "$tmp/only"
	# shellcheck disable=SC2086
	"$pm" --model smollm2-135m --calibrated "$(head -1 "$tmp/emu")" $flags >"$tmp/pm" 2>&1
	rc=$?
	check "npu-perf-model takes the emulated run's flags and says EMULATED" \
		'[ $rc -eq 0 ] && grep -q "^==== CALIBRATED MODEL" "$tmp/pm" && grep -q "^EMULATED DEVICE" "$tmp/pm" && grep -qE "^  decode [0-9]+\.[0-9]+ tok/s" "$tmp/pm"' "$tmp/pm"
	"$root/scripts/calibrate.sh" "$build" 1 --quick -t 2 >"$tmp/make" 2>&1
	rc=$?
	check "scripts/calibrate.sh (make calibrate CALIBRATE_EMU=1): both models reported" \
		'[ $rc -eq 0 ] && [ "$(grep -c "^==== CALIBRATED MODEL" "$tmp/make")" -eq 2 ]' "$tmp/make"
	ROCKET_ACCEL_DEV=/dev/null "$root/scripts/calibrate.sh" "$build" "" >"$tmp/make" 2>&1
	rc=$?
	check "scripts/calibrate.sh without a device: exit 1, says how to try the emulator" \
		'[ $rc -eq 1 ] && grep -q "CALIBRATE_EMU=1" "$tmp/make"' "$tmp/make"
fi
echo "1..$n"
exit $failed
