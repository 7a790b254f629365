#!/usr/bin/env bash
# Builds the Cubicle guest kernel from Debian's linux-source-6.12 and prints the
# path of the cached PVH-bootable vmlinux on stdout (progress goes to stderr).
#
# The cache entry is keyed by a hash of the config fragment, our patches
# (patches/*.patch, applied in name order), this script and the linux-source
# package version; a hit costs nothing. The build tree is kept between changes
# so that a change rebuilds only what it touches.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/cache-lib.sh"

if [ "${1:-}" = "--help" ]; then
	echo "usage: $0    build (or find cached) guest vmlinux; prints its path"
	exit 0
fi

tarball=/usr/src/linux-source-6.12.tar.xz
fragment=$here/microvm.config
[ -r "$tarball" ] || { echo "kernel: $tarball missing (run scripts/install-deps.sh)" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
patches=("$here"/patches/*.patch)
[ -e "${patches[0]}" ] || patches=()
key=$( (cache_key "$fragment" "$0" "${patches[@]}"; echo "$version") | sha256sum | cut -c1-16)
out=$CUBICLE_CACHE/kernel/$key
if [ -r "$out/vmlinux" ]; then
	echo "$out/vmlinux"
	exit 0
fi

work=$CUBICLE_CACHE/kernel/work-$version
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9
if [ -r "$out/vmlinux" ]; then # built by another process while we waited
	echo "$out/vmlinux"
	exit 0
fi

src=$work/src
# A source tree with a patch we no longer have is unpacked afresh.
if [ -e "$src/.unpacked" ] && [ -e "$src/.patches" ]; then
	while IFS= read -r applied; do
		found=0
		for p in "${patches[@]}"; do
			[ "$applied" = "$(basename "$p") $(sha256sum <"$p" | cut -c1-16)" ] && found=1
		done
		[ "$found" -eq 1 ] || { rm -f "$src/.unpacked"; break; }
	done <"$src/.patches"
fi
if [ ! -e "$src/.unpacked" ]; then
	echo "kernel: unpacking linux-source $version" >&2
	rm -rf "$src"
	mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	# tar restores old mtimes: objects built from a patched file would look
	# newer than the file it puts back, so the build tree starts over too.
	rm -rf "$work/build"
	: >"$src/.patches"
	touch "$src/.unpacked"
fi
for p in "${patches[@]}"; do
	id="$(basename "$p") $(sha256sum <"$p" | cut -c1-16)"
	grep -qxF "$id" "$src/.patches" && continue
	echo "kernel: applying $(basename "$p")" >&2
	if ! patch -s -p1 -d "$src" <"$p"; then
		rm -f "$src/.unpacked"   # half patched: unpack afresh next time
		echo "kernel: $(basename "$p") does not apply" >&2
		exit 1
	fi
	echo "$id" >>"$src/.patches"
done

obj=$work/build
mkdir -p "$obj"
echo "kernel: configuring (allnoconfig + $(basename "$fragment"))" >&2
make -s -C "$src" O="$obj" KCONFIG_ALLCONFIG="$fragment" allnoconfig >&2

# Every line of the fragment must hold in the result: an option whose
# dependencies are missing is dropped silently by Kconfig.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%%=*}
		grep -q "^$opt=" "$obj/.config" && { echo "kernel: $opt is set, wanted off" >&2; bad=1; } ;;
	CONFIG_*=*) grep -qx "$line" "$obj/.config" || { echo "kernel: $line did not hold" >&2; bad=1; } ;;
	esac
done <"$fragment"
[ "$bad" -eq 0 ] || { echo "kernel: config fragment does not apply" >&2; exit 1; }

echo "kernel: building vmlinux with $(nproc) jobs (several minutes on first build)" >&2
make -C "$src" O="$obj" -j"$(nproc)" vmlinux 2>&1 | progress kernel 500 >&2
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "kernel: build failed" >&2; exit 1; }

mkdir -p "$out.tmp"
cp "$obj/vmlinux" "$out.tmp/vmlinux"
cp "$obj/.config" "$out.tmp/config"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "kernel: cached $out/vmlinux" >&2
echo "$out/vmlinux"
