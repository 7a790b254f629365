#!/bin/sh
# Copies template overlays into a root tree with fixed modes, whatever the
# checkout's umask was: 0755 where the file is executable, else 0644; folders
# 0755; owned by root. Run by build-image.sh as an mmdebstrap hook.
# usage: install-overlays.sh ROOT OVERLAY...
set -e
umask 022
here=$(cd "$(dirname "$0")" && pwd)
root=$1
shift
for o in "$@"; do
	cd "$here/templates/overlays/$o"
	find . -type f | while read -r f; do
		if [ -x "$f" ]; then m=0755; else m=0644; fi
		install -D -m "$m" -o root -g root "$f" "$root/$f"
	done
done
