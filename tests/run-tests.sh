#!/bin/bash
# SPDX-License-Identifier: MIT
# Run test programs, each printing TAP, and close with "N passed, N failed, N skipped".
# Usage: tests/run-tests.sh CMD [CMD ...]   (each CMD is one shell word list, quoted)
# A program that exits non-zero without printing a "not ok" line counts as one failure,
# so a crash or a missing binary is never silently a pass.
pass=0 fail=0 skip=0
logdir=${TEST_LOG_DIR:-build/test-logs}
mkdir -p "$logdir"
for cmd in "$@"; do
	# Log name from the command's words, e.g. "python3 tests/x.py" -> x.py
	name=$(echo "$cmd" | awk '{for (i = 1; i <= NF; i++) if ($i !~ /^(python3|bash|node|sh)$/) { print $i; exit }}')
	name=$(basename "${name:-test}")
	log="$logdir/$name.log"
	echo "=== $cmd"
	bash -c "$cmd" >"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok [0-9]+' "$log" | head -1); p=${p:-0}
	s=$(grep -cE '^ok [0-9]+.*# *SKIP' "$log" | head -1); s=${s:-0}
	f=$(grep -cE '^not ok [0-9]+' "$log" | head -1); f=${f:-0}
	p=$((p - s))
	grep -E '^(not ok|ok .*# *SKIP|#   )' "$log" | head -40 || true
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: '$cmd' exited with status $rc without a failing case; last lines:"
		tail -5 "$log"
		f=1
	fi
	if [ $((p + s + f)) -eq 0 ]; then
		echo "FAIL: '$cmd' ran no test case"
		f=1
	fi
	echo "    $p passed, $f failed, $s skipped (log: $log)"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
