# Shared helpers for build scripts that cache artifacts outside the tree.
# Sourced, not run.

# Where big artifacts live: kernels, root images. Never inside the git tree.
CUBICLE_CACHE=${CUBICLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cubicle}

# cache_key FILE... : a short hash of the named inputs' contents and names.
cache_key() {
	local f
	for f in "$@"; do
		printf '%s\n' "$(basename "$f")"
		cat "$f"
	done | sha256sum | cut -c1-16
}

# progress WHAT : reads build output on stdin and prints one line per N lines.
progress() {
	awk -v what="$1" -v every="${2:-250}" '
		{ n++; if (n % every == 0) { printf "%s: %d steps\n", what, n; fflush() } }
		/error:|Error [0-9]|ERROR:/ { print; fflush() }
		END { printf "%s: %d steps, done\n", what, n }'
}
