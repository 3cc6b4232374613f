#!/bin/bash
# SPDX-License-Identifier: MIT
# Shared helpers for scripts/kernel/*.sh: where things live, the kernel source
# (Debian's linux-source-<series> package, see ../shared/docs/kernel-recipe.md),
# and a patched git tree per source version.
#
# Environment:
#   KVER          kernel series to build: 7.3 (default) or 7.2
#   KERNEL_WORK   cache and build directory, outside the repository clone
#                 (default /work/kbuild if /work exists, else
#                 ${XDG_CACHE_HOME:-~/.cache}/rosenblatt-kernel); keeps the
#                 .deb, the unpacked tree (a git repository with a "pristine"
#                 branch) and the O= build directories between runs
#   KERNEL_OUT    artifact folder (default $KERNEL_WORK/out/<profile>-<kver>)
#   JOBS          make -j (default 2)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KVER=${KVER:-7.3}
JOBS=${JOBS:-2}
if [ -z "${KERNEL_WORK:-}" ]; then
	if [ -d /work ] && [ -w /work ]; then
		KERNEL_WORK=/work/kbuild
	else
		KERNEL_WORK=${XDG_CACHE_HOME:-$HOME/.cache}/rosenblatt-kernel
	fi
fi
mkdir -p "$KERNEL_WORK"
PATCHES="$REPO/kernel/patches"
CROSS=aarch64-linux-gnu-

log() { printf 'kernel: %s\n' "$*" >&2; }
die() { printf 'kernel: error: %s\n' "$*" >&2; exit 1; }

TOOL_PKGS="gcc-aarch64-linux-gnu libc6-dev-arm64-cross bc flex bison libssl-dev libelf-dev \
python3 device-tree-compiler qemu-system-arm cpio kmod rsync xz-utils git codespell perl \
make gcc libc6-dev"

# Debian packages for cross-building and QEMU (bookworm); installs only as root.
ensure_tools() {
	local missing=() p
	for p in $TOOL_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root or install them)"
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
		>"$KERNEL_WORK/apt-install.log" 2>&1 || {
		apt-get update >>"$KERNEL_WORK/apt-install.log" 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" \
			>>"$KERNEL_WORK/apt-install.log" 2>&1 || die "apt-get install failed, see $KERNEL_WORK/apt-install.log"
	}
}

# The source packages come from sid / trixie-backports, added with a low pin so
# that nothing is ever installed or upgraded from them: we only download.
ensure_source_suites() {
	"$(dirname "${BASH_SOURCE[0]}")/../apt-kernel-src.sh" || die "cannot add the kernel source suites"
}

# Sets DEB (path) and PKGVER (Debian version) for linux-source-$KVER, downloading
# the package only when no .deb of that series is cached yet.
ensure_deb() {
	mkdir -p "$KERNEL_WORK/debs"
	DEB=$(ls -1 "$KERNEL_WORK"/debs/linux-source-"${KVER}"_*_all.deb 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$DEB" ]; then
		ensure_source_suites
		log "downloading linux-source-$KVER"
		(cd "$KERNEL_WORK/debs" && apt-get download "linux-source-$KVER" >"$KERNEL_WORK/download.log" 2>&1) ||
			die "apt-get download linux-source-$KVER failed, see $KERNEL_WORK/download.log"
		DEB=$(ls -1 "$KERNEL_WORK"/debs/linux-source-"${KVER}"_*_all.deb | sort -V | tail -1)
	fi
	PKGVER=$(basename "$DEB" _all.deb)
	PKGVER=${PKGVER#linux-source-"${KVER}"_}
}

# Sets KSRC: the unpacked tree as a git repository whose "pristine" branch is
# the untouched package content (created once, ~2.5 min on 2 cores).
ensure_tree() {
	ensure_deb
	local top="$KERNEL_WORK/src/$PKGVER"
	KSRC="$top/linux-source-$KVER"
	if [ ! -f "$top/.ready" ]; then
		log "unpacking $(basename "$DEB")"
		rm -rf "$top" && mkdir -p "$top"
		dpkg -x "$DEB" "$top/pkg"
		tar -C "$top" -xf "$top/pkg/usr/src/linux-source-$KVER.tar.xz"
		rm -rf "$top/pkg"
	fi
	if ! git -C "$KSRC" rev-parse -q --verify pristine >/dev/null 2>&1; then
		log "recording the pristine tree in git"
		git -C "$KSRC" init -q
		git -C "$KSRC" checkout -q -b pristine 2>/dev/null || true
		# Debian's top-level .gitignore ignores everything: add with -f.
		git -C "$KSRC" add -A -f
		git -C "$KSRC" -c user.name=pristine -c user.email=pristine@localhost \
			commit -q -m "pristine linux-source-$KVER $PKGVER"
	fi
	touch "$top/.ready"
	KERNELVERSION=$(make -s -C "$KSRC" kernelversion 2>/dev/null)
}

# The patch files to apply, in order: the 7.2 prerequisite when building 7.2,
# the iommu series, then any later series (kernel/patches/rocket/).
series_files() {
	if [ "$KVER" = 7.2 ]; then
		ls -1 "$PATCHES"/iommu/7.2-prereq/*.patch
	fi
	ls -1 "$PATCHES"/iommu/[0-9][0-9][0-9][0-9]-*.patch | grep -v '/0000-cover-letter'
	if [ -d "$PATCHES/rocket" ]; then
		ls -1 "$PATCHES"/rocket/[0-9][0-9][0-9][0-9]-*.patch 2>/dev/null | grep -v '/0000-cover-letter' || true
	fi
}

series_applied() {
	[ "$(git -C "$KSRC" rev-parse --abbrev-ref HEAD)" = rosenblatt ] &&
		[ -f "$1" ] && [ "$(cat "$1")" = "$2" ] &&
		[ -z "$(git -C "$KSRC" status --porcelain --untracked-files=no)" ]
}

# Check out a fresh "rosenblatt" branch from pristine and git am the series.
# Skips the work when the branch already carries exactly these patch files.
# Every job that builds from the tree holds a shared lock on it until it
# exits (fd 8); rewriting the tree takes it exclusively, so a job with
# another series waits for the builds in progress instead of changing their
# sources under them.
apply_series() {
	local stamp="$KSRC/.git/rosenblatt-series" want
	# the patch contents only: the same series from another clone is the same series
	want=$(series_files | xargs sha256sum | cut -d' ' -f1 | sha256sum | cut -d' ' -f1)
	exec 8>"$KERNEL_WORK/.tree-$KVER.lock"
	if ! flock -s -n 8; then
		log "waiting for the $KVER tree: another kernel job is changing it"
		flock -s 8
	fi
	if series_applied "$stamp" "$want"; then
		log "series already applied on $KVER ($PKGVER)"
		return 0
	fi
	if ! flock -x -n 8; then
		log "waiting for the kernel jobs building from the $KVER tree to finish (another series)"
		flock -x 8
	fi
	if series_applied "$stamp" "$want"; then
		flock -s 8
		log "series already applied on $KVER ($PKGVER)"
		return 0
	fi
	log "applying $(series_files | wc -l) patches to linux-source-$KVER $PKGVER"
	git -C "$KSRC" am --abort >/dev/null 2>&1 || true
	git -C "$KSRC" checkout -q -f -B rosenblatt pristine
	git -C "$KSRC" clean -q -fdx
	# shellcheck disable=SC2046
	git -C "$KSRC" -c user.name="Rosenblatt build" -c user.email=build@localhost \
		am -q --committer-date-is-author-date $(series_files) ||
		die "git am failed on $KVER; see 'git -C $KSRC am --show-current-patch'"
	echo "$want" >"$stamp"
	flock -s 8
}

# One job per build directory at a time (fd 7, held until the job exits).
lock_build_dir() {
	mkdir -p "$1"
	exec 7>"$1.lock"
	if ! flock -n 7; then
		log "waiting: another kernel job is building in $1"
		flock 7
	fi
}
