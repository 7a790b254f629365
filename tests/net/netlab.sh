#!/usr/bin/env bash
# The network tests' own world (docs/networking.md, "Tests"): two network
# namespaces and nothing outside them.
#   LAB-host  where cubicled runs: loopback, and an uplink 198.51.100.1/24
#   LAB-inet  "the internet" behind it: 203.0.113.10 and .20 serve HTTP
#             (nethost.py), 203.0.113.53 answers DNS for *.test (dnsmasq),
#             and decoys on private, shared, link-local and benchmarking
#             addresses answer too, so a refusal proves the filter and not a
#             missing route.
# usage: netlab.sh up LAB DIR | down LAB DIR   (DIR holds pid files and logs)
set -euo pipefail

cmd=${1:?usage: netlab.sh up|down LAB DIR}
lab=${2:?lab name}
dir=${3:?state dir}
here=$(cd "$(dirname "$0")" && pwd)
host=$lab-host
inet=$lab-inet
DECOYS="10.99.0.10 172.16.99.10 192.168.99.10 100.64.99.10 169.254.169.254 198.18.0.10"

down() {
	for p in "$dir"/*.pid; do
		[ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	ip netns del "$host" 2>/dev/null || true
	ip netns del "$inet" 2>/dev/null || true
	rm -f "$dir"/*.pid
}

case "$cmd" in
up)
	down
	mkdir -p "$dir"
	ip netns add "$host"
	ip netns add "$inet"
	ip link add up0 netns "$host" type veth peer name down0 netns "$inet"
	ip -n "$host" link set lo up
	ip -n "$host" addr add 198.51.100.1/24 dev up0
	ip -n "$host" link set up0 up
	ip -n "$host" route add default via 198.51.100.2
	ip -n "$inet" link set lo up
	ip -n "$inet" addr add 198.51.100.2/24 dev down0
	ip -n "$inet" link set down0 up
	for a in 203.0.113.10 203.0.113.20 203.0.113.53 $DECOYS; do
		ip -n "$inet" addr add "$a/32" dev lo
	done
	ip netns exec "$inet" dnsmasq --pid-file="$dir/dnsmasq.pid" --listen-address=203.0.113.53 \
		--bind-interfaces --no-resolv --no-hosts --log-facility="$dir/dnsmasq.log" \
		--address=/web.test/203.0.113.10 --address=/decoy.test/10.99.0.10
	ip netns exec "$inet" python3 "$here/nethost.py" 203.0.113.10 203.0.113.20 $DECOYS \
		>"$dir/nethost.log" 2>&1 &
	echo $! >"$dir/nethost.pid"
	# Ready when the web server answers (bounded: 10 s).
	for _ in $(seq 100); do
		ip netns exec "$inet" python3 -c 'import socket; socket.create_connection(("203.0.113.10", 80), 1)' \
			2>/dev/null && exit 0
		sleep 0.1
	done
	echo "netlab: the test web server did not start" >&2
	exit 1
	;;
down) down ;;
*) echo "usage: netlab.sh up|down LAB DIR" >&2; exit 2 ;;
esac
