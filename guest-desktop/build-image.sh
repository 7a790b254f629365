#!/usr/bin/env bash
# Builds a guest root image from a template recipe with mmdebstrap and prints
# the path of the cached ext4 image on stdout (progress goes to stderr).
#
# usage: build-image.sh TEMPLATE AGENT_BINARY KEYS_BINARY
#
# Every image has cubicle-agent as /sbin/cubicle-agent (the guest's PID 1),
# cubicle-keys (guest-desktop/keys) as /usr/local/bin/cubicle-keys and
# the unprivileged sandbox user `user` (uid 1000, home /home/user).
# The image is keyed by a hash of the recipe, this script and both binaries;
# a hit costs nothing. Packages come from the mirror the host's apt sources use.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../scripts/cache-lib.sh"

usage() { echo "usage: $0 TEMPLATE AGENT_BINARY KEYS_BINARY    (templates: $(cd "$here/templates" && ls ./*.recipe | sed 's#^\./##; s/\.recipe$//' | tr '\n' ' '))"; }
[ "${1:-}" = "--help" ] && { usage; exit 0; }
[ $# -eq 3 ] || { usage >&2; exit 2; }
template=$1 init=$2 keys=$3
recipe=$here/templates/$template.recipe
[ -r "$recipe" ] || { echo "image: no template '$template' ($recipe)" >&2; exit 2; }
[ -x "$init" ] || { echo "image: agent binary '$init' missing" >&2; exit 2; }
[ -x "$keys" ] || { echo "image: key-mapping helper '$keys' missing" >&2; exit 2; }
init=$(realpath "$init") keys=$(realpath "$keys")

PACKAGES="" OVERLAYS="" HEADROOM_MIB=256
# shellcheck source=/dev/null
. "$recipe"
overlay_files=()
for o in $OVERLAYS; do
	[ -d "$here/templates/overlays/$o" ] || { echo "image: $template: no overlay '$o'" >&2; exit 2; }
	while IFS= read -r f; do overlay_files+=("$f"); done < <(find "$here/templates/overlays/$o" -type f | LC_ALL=C sort)
done

# The key covers every overlay file's path, contents and whether it is executable.
key=$( {
	cache_key "$recipe" "$0" "$here/install-overlays.sh" "$init" "$keys" "${overlay_files[@]}"
	for f in "${overlay_files[@]}"; do echo "${f#"$here"/} $([ -x "$f" ] && echo x)"; done
} | sha256sum | cut -c1-16)
out=$CUBICLE_CACHE/images/$template-$key.ext4
if [ -r "$out" ]; then
	echo "$out"
	exit 0
fi
mkdir -p "$CUBICLE_CACHE/images"
exec 9>"$CUBICLE_CACHE/images/.lock-$template"
flock 9
[ -r "$out" ] && { echo "$out"; exit 0; }

# The host's own Debian sources for bookworm, handed to mmdebstrap as they are.
host_sources() {
	local f found=0
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		if grep -Eq '^Suites:.*bookworm' "$f"; then
			cat "$f"
			echo
			found=1
		fi
	done
	[ "$found" -eq 1 ] && return 0
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -E '^deb .* bookworm' | grep -v backports
}

work=$(mktemp -d "$CUBICLE_CACHE/images/build-$template.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM HUP    # so a build stopped midway leaves no half-made root behind
sources=$work/sources
host_sources >"$sources"
[ -s "$sources" ] || { echo "image: no bookworm entries in the host's apt sources" >&2; exit 1; }
grep -q '^URIs:' "$sources" && mv "$sources" "$sources.sources" && sources=$sources.sources

echo "image: $template: mmdebstrap bookworm ($PACKAGES)" >&2
# Debian's own tools, not a python or perl from elsewhere on PATH.
PATH=/usr/sbin:/usr/bin:/sbin:/bin mmdebstrap --variant=minbase --mode=root --format=directory \
	--include="$(echo "$PACKAGES" | tr ' ' ',')" \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--customize-hook='echo cubicle > "$1/etc/hostname"' \
	--customize-hook='rm -f "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*_Packages' \
	--customize-hook="install -m 0755 '$init' \"\$1/sbin/cubicle-agent\"" \
	--customize-hook="install -D -m 0755 '$keys' \"\$1/usr/local/bin/cubicle-keys\"" \
	--customize-hook="'$here/install-overlays.sh' \"\$1\" $OVERLAYS" \
	--customize-hook='chroot "$1" useradd --create-home --uid 1000 --user-group --shell /bin/bash user' \
	bookworm "$work/root" "$sources" 2>&1 |
	grep --line-buffered -E '^(I|W|E): ' | sed -u "s/^/image: $template: /" >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "image: mmdebstrap failed" >&2; exit 1; }

used=$(du -sm "$work/root" | cut -f1)
size=$((used + used / 4 + HEADROOM_MIB))
echo "image: $template: ext4 of ${size} MiB (${used} MiB of files)" >&2
truncate -s "${size}M" "$work/image"
mkfs.ext4 -q -F -L cubicle-root -d "$work/root" "$work/image"
mv "$work/image" "$out"
echo "image: cached $out" >&2
# Keep the three newest images of this template; overlays over an older base
# name it, and cubicle-vmm says so if it is gone.
ls -t "$CUBICLE_CACHE/images/$template"-*.ext4 2>/dev/null | tail -n +4 | while read -r old; do
	rm -f "$old" && echo "image: pruned $old" >&2
done
echo "$out"
