#!/usr/bin/env bash
# Installs the web console's npm packages (web/package-lock.json: noVNC, and
# playwright-core for the browser tests) into the cache, keyed by a hash of
# web/'s package files, and prints the path of their node_modules. Nothing
# is installed in the tree. npm takes its registry from its own settings.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE=${CUBICLE_CACHE:-$HOME/.cache/cubicle}
if ! command -v npm >/dev/null; then
	echo "web-deps: npm is missing (make deps installs it)" >&2
	exit 1
fi
hash=$(cat web/package.json web/package-lock.json web/.npmrc | sha256sum | cut -c1-16)
dir=$CACHE/web-$hash
if [ ! -e "$dir/.done" ]; then
	echo "web-deps: npm ci into $dir" >&2
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	cp web/package.json web/package-lock.json web/.npmrc "$dir.tmp/"
	(cd "$dir.tmp" && npm ci --no-audit --no-fund --loglevel=warn >&2)
	touch "$dir.tmp/.done"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
fi
echo "$dir/node_modules"
