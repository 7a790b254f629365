#!/usr/bin/env bash
# cubicled's command line and configuration as a user meets them: each
# mistake gets a one-line reason on stderr (the last line, after any log line)
# and status 2 (bad usage) or 1 (cannot start); nothing hangs, nothing is
# left listening.
set -u
cubicled=$1
tmp=$(mktemp -d /tmp/cubicled-cli-XXXXXX)
trap 'rm -rf "$tmp"; [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null' EXIT
passed=0 failed=0

# expect STATUS NEEDLE -- ARGS...
expect() {
	local want=$1 needle=$2 status
	shift 3
	timeout 20 "$cubicled" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	if [ "$status" -eq "$want" ] && tail -n 1 "$tmp/err" | grep -qF -- "$needle" &&
		[ "$(grep -vc '^time=' "$tmp/err")" -le 1 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $* -> status $status (want $want), stderr:" >&2
		cat "$tmp/err" >&2
	fi
}

# A guest dir with a kernel path that exists, and a fake monitor.
mkdir -p "$tmp/guest" "$tmp/data"
touch "$tmp/vmlinux"
echo "$tmp/vmlinux" >"$tmp/guest/kernel.path"
printf '#!/bin/sh\nexit 1\n' >"$tmp/vmm" && chmod +x "$tmp/vmm"
ok=(--guest-dir "$tmp/guest" --vmm "$tmp/vmm" --listen 127.0.0.1:0 --no-network)

if "$cubicled" --help | grep -q -- "--data-dir DIR"; then passed=$((passed + 1)); else
	failed=$((failed + 1)); echo "FAIL: --help" >&2; fi
expect 2 "--data-dir is required" --
expect 2 "unknown option '--bogus'" -- --bogus
expect 2 "--listen needs a value" -- --data-dir "$tmp/data" --listen
expect 2 "unexpected argument 'extra'" -- --data-dir "$tmp/data" extra
expect 2 "--listen nope:80: want ADDR:PORT" -- --data-dir "$tmp/data" "${ok[@]}" --listen nope:80
expect 2 "--listen 127.0.0.1:70000" -- --data-dir "$tmp/data" "${ok[@]}" --listen 127.0.0.1:70000

echo '{"max_sandboxes": 4, "colour": "red"}' >"$tmp/c1.json"
expect 2 'unknown key "colour"' -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/c1.json"
echo '{"vcpus": "two"}' >"$tmp/c2.json"
expect 2 '"vcpus": want a whole number' -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/c2.json"
echo '{"resolution": "10x10"}' >"$tmp/c3.json"
expect 2 '"resolution": want WxH' -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/c3.json"
echo '{"max_sandboxes": ' >"$tmp/c4.json"
expect 2 "config $tmp/c4.json" -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/c4.json"
echo '[1, 2]' >"$tmp/c5.json"
expect 2 "want a JSON object" -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/c5.json"
echo '{"vcpus": 16, "max_vcpus": 8}' >"$tmp/c6.json"
expect 2 "vcpus 16: want 1..max_vcpus (8)" -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/c6.json"
expect 2 "config /nonexistent.json" -- --data-dir "$tmp/data" "${ok[@]}" --config /nonexistent.json
echo '{"network":{"pool":"10.231.0.7/16"}}' >"$tmp/n1.json"
expect 2 '"network.pool": '"'"'10.231.0.7/16'"'"' has bits set past its prefix; the network is 10.231.0.0/16' -- \
	--data-dir "$tmp/data" "${ok[@]}" --config "$tmp/n1.json"
echo '{"network":{"pool":"10.0.0.0/30"}}' >"$tmp/n2.json"
expect 2 '"network.pool": want a network from /8 to /28' -- --data-dir "$tmp/data" "${ok[@]}" \
	--config "$tmp/n2.json"
echo '{"network":{"dns":["resolver.example"]}}' >"$tmp/n3.json"
expect 2 '"network.dns"[0]: want an IPv4 address' -- --data-dir "$tmp/data" "${ok[@]}" \
	--config "$tmp/n3.json"
echo '{"network":{"open":["10.20.0.0/33"]}}' >"$tmp/n4.json"
expect 2 'network.open[0]' -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/n4.json"
echo '{"network":{"enabled":1}}' >"$tmp/n5.json"
expect 2 '"network.enabled": want true or false' -- --data-dir "$tmp/data" "${ok[@]}" \
	--config "$tmp/n5.json"
echo '{"network":{"nat":true}}' >"$tmp/n6.json"
expect 2 '"network": unknown key "nat"' -- --data-dir "$tmp/data" "${ok[@]}" --config "$tmp/n6.json"

long=$tmp/$(printf 'd%.0s' $(seq 80))
expect 1 "too long a path for the sandboxes' sockets" -- --data-dir "$long" "${ok[@]}"
expect 1 "no guest kernel" -- --data-dir "$tmp/data" --guest-dir "$tmp" --vmm "$tmp/vmm" \
	--listen 127.0.0.1:0
expect 1 "cubicle-vmm /nonexistent/vmm" -- --data-dir "$tmp/data" --guest-dir "$tmp/guest" \
	--vmm /nonexistent/vmm --listen 127.0.0.1:0
echo short >"$tmp/key"
expect 1 "want a key of at least 16 characters" -- --data-dir "$tmp/data" "${ok[@]}" \
	--api-key-file "$tmp/key"

# A port someone else holds.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$tmp/port" &
holder=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
expect 1 "cannot listen on 127.0.0.1:$(cat "$tmp/port")" -- --data-dir "$tmp/data" \
	--guest-dir "$tmp/guest" --vmm "$tmp/vmm" --listen "127.0.0.1:$(cat "$tmp/port")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
