#!/usr/bin/env bash
# Installs every Debian package Cubicle needs on a Debian 12 (bookworm) host.
# Idempotent and quiet when everything is already present.
#
# QEMU >= 10 comes from bookworm-backports. The backports suite is enabled with
# the mirror the host's apt sources already use; no host name is written here.
set -euo pipefail

PKGS=(
	# build
	build-essential cmake pkg-config git
	# libraries
	libvncserver-dev libpng-dev libturbojpeg0-dev libxkbcommon-dev
	libjson-c-dev liblz4-dev libseccomp-dev libmicrohttpd-dev libcurl4-openssl-dev libyaml-dev
	# sandboxes' networks: nftables rules and netlink (net/), ip and nft for people and tests
	libnftables-dev libnl-route-3-dev iproute2 nftables
	# the network tests' lab: DNS for *.test (tests/net/netlab.sh)
	dnsmasq-base
	# the guest's key-mapping helper (guest-desktop/keys), linked as the guest links it
	libx11-dev
	# guest kernel
	linux-source-6.12 bc bison flex libelf-dev libssl-dev xz-utils cpio patch
	# root images
	mmdebstrap e2fsprogs busybox-static python3
	# engine
	qemu-utils
	# the web console's browser tests (headless, driven by playwright-core)
	chromium
)
# noVNC and playwright-core come from npm (scripts/web-deps.sh): Node.js and
# npm from Debian unless the host has them already (from elsewhere).
NODE_PKGS=(nodejs npm)
BACKPORTS_PKGS=(qemu-system-x86)
MIN_QEMU_MAJOR=10

log() { printf 'install-deps: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root (apt-get install)" >&2
	exit 1
fi
if ! [ -r /etc/debian_version ]; then
	echo "install-deps: this script supports Debian 12 (bookworm) only" >&2
	exit 1
fi

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || printf '%s\n' "$p"
	done
}

qemu_major() {
	command -v qemu-system-x86_64 >/dev/null || { echo 0; return; }
	qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'
}

# The mirror of the host's bookworm suite, from deb822 or one-line sources.
debian_mirror_deb822() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		     { u = ""; s = 0
		       for (i = 1; i <= NF; i++) {
		         if ($i ~ /^URIs:/) { split($i, a, " "); u = a[2] }
		         if ($i ~ /^Suites:.* bookworm( |$)/) s = 1 }
		       if (u != "" && s) { print u; exit } }' "$f"
	done | head -n1
}
debian_mirror_oneline() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }'
}

enable_backports() {
	local list=/etc/apt/sources.list.d/cubicle-backports.sources mirror
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
	mirror=$(debian_mirror_deb822)
	[ -n "$mirror" ] || mirror=$(debian_mirror_oneline)
	if [ -z "$mirror" ]; then
		echo "install-deps: no Debian mirror found in the apt sources to enable bookworm-backports" >&2
		exit 1
	fi
	log "enabling bookworm-backports from $mirror"
	cat >"$list" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	NEED_UPDATE=1
}

NEED_UPDATE=0
todo=$(missing "${PKGS[@]}")
command -v npm >/dev/null || todo="$todo $(missing "${NODE_PKGS[@]}")"
todo=$(echo $todo)
need_qemu=0
[ "$(qemu_major)" -ge "$MIN_QEMU_MAJOR" ] || need_qemu=1

[ -z "$todo" ] && [ "$need_qemu" -eq 0 ] && exit 0

export DEBIAN_FRONTEND=noninteractive
[ "$need_qemu" -eq 1 ] && enable_backports
# An apt list that has never been fetched, or backports just enabled.
if [ "$NEED_UPDATE" -eq 1 ] || [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ] ||
	! apt-cache show linux-source-6.12 >/dev/null 2>&1; then
	log "apt-get update"
	apt-get update -qq
fi
if [ -n "$todo" ]; then
	log "installing: $(echo $todo)"
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $todo >/dev/null
fi
if [ "$need_qemu" -eq 1 ]; then
	log "installing ${BACKPORTS_PKGS[*]} from bookworm-backports"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORTS_PKGS[@]}" >/dev/null
	if [ "$(qemu_major)" -lt "$MIN_QEMU_MAJOR" ]; then
		echo "install-deps: qemu-system-x86_64 is $(qemu_major).x after install; need >= $MIN_QEMU_MAJOR" >&2
		exit 1
	fi
fi
log "done"
