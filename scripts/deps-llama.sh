#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the llama.cpp reference (for `make model-fixtures` and `make bench`)
# into .deps/llama, once. The source is the llama.cpp tree vendored in the
# pinned llama-cpp-python sdist from PyPI (we only use its C/C++ part).
# Builds libllama, llama-bench and our logits dumper tests/model/llama_ref.c.
# A stamp keeps a second run instant; the first build took ~25 min on the
# shared 2-core machine (llama-bench pulls in llama.cpp's common library).
set -euo pipefail
cd "$(dirname "$0")/.."
PKG="llama-cpp-python==0.3.36"
D=.deps/llama
SRC=$D/src
BLD=$D/build
stamp=$D/stamp
want="$PKG $(sha256sum tests/model/llama_ref.c | cut -c1-16)"
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && exit 0
mkdir -p "$D"

if [ ! -f "$SRC/CMakeLists.txt" ]; then
	echo "deps-llama: downloading $PKG sdist"
	rm -rf "$D/dl" "$SRC"
	python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
		--dest "$D/dl" "$PKG" >"$D/pip.log" 2>&1 ||
		{ echo "deps-llama: pip download failed, see $D/pip.log" >&2; exit 1; }
	tar xzf "$D"/dl/llama_cpp_python-*.tar.gz -C "$D/dl"
	mv "$D"/dl/llama_cpp_python-*/vendor/llama.cpp "$SRC"
	rm -rf "$D/dl"
fi

if [ ! -x "$BLD/bin/llama-bench" ]; then
	echo "deps-llama: building llama.cpp (libllama, llama-bench) in $BLD; log in $D/build.log"
	# GGML_NATIVE: the reference runs on this machine only; CPU backend only.
	cmake -S "$SRC" -B "$BLD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
		-DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=ON -DGGML_OPENMP=OFF \
		-DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
		-DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON >"$D/build.log" 2>&1 ||
		{ echo "deps-llama: cmake failed, see $D/build.log" >&2; exit 1; }
	cmake --build "$BLD" --target llama llama-bench -j"$(nproc)" >>"$D/build.log" 2>&1 ||
		{ echo "deps-llama: build failed, see $D/build.log" >&2; exit 1; }
fi

echo "deps-llama: building $D/llama_ref"
gcc -std=c11 -O2 -Wall -I"$SRC/include" -I"$SRC/ggml/include" tests/model/llama_ref.c \
	-o "$D/llama_ref" -L"$BLD/bin" -lllama -lggml -lggml-base -Wl,-rpath,"$(cd "$BLD/bin" && pwd)" ||
	{ echo "deps-llama: llama_ref build failed" >&2; exit 1; }
echo "$want" >"$stamp"
