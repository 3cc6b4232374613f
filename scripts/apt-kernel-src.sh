#!/bin/bash
# SPDX-License-Identifier: MIT
# Make Debian's linux-source-7.x packages downloadable on bookworm: add the
# sid and trixie-backports suites with a low pin (priority 50), so nothing is
# ever installed or upgraded from them; we only `apt-get download` from them.
# Never `apt-get install -t sid` / `-t trixie-backports`: it replaces libc.
set -euo pipefail
src=/etc/apt/sources.list.d/kernel-src.sources
pin=/etc/apt/preferences.d/kernel-src-low
if [ -f "$src" ] && [ -f "$pin" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "apt-kernel-src: need $src and $pin; run once as root (see docs/boltzmann.md)" >&2
	exit 1
fi
mirror=$(grep -hoE '^(URIs:|deb) +[a-z]+://[^ ]+' /etc/apt/sources.list.d/*.sources \
	/etc/apt/sources.list 2>/dev/null | grep -oE '[a-z]+://[^ ]+' | head -1 || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
cat >"$src" <<EOT
Types: deb
URIs: $mirror
Suites: sid trixie-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
cat >"$pin" <<'EOT'
Package: *
Pin: release n=sid
Pin-Priority: 50

Package: *
Pin: release n=trixie-backports
Pin-Priority: 50
EOT
echo "apt-kernel-src: added sid and trixie-backports at pin 50 (download only)"
apt-get update >/dev/null 2>&1 || { echo "apt-kernel-src: apt-get update failed" >&2; exit 1; }
