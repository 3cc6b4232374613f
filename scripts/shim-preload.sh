# SPDX-License-Identifier: MIT
# Sourced: shim_preload SHIM prints the LD_PRELOAD list for the emulated
# device: the shim's absolute path, after the ASan runtime when the shim is
# ASan-instrumented (make asan), which must come first in the list.
shim_preload() {
	local abs asan
	abs=$(realpath "$1") || return 1
	asan=$(ldd "$1" 2>/dev/null | awk '/libasan/ {print $3; exit}')
	echo "${asan:+$asan }$abs"
}
