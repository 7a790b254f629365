#!/usr/bin/env bash
# cubicle-vmm's command line as a user meets it: each mistake gets one line on
# stderr naming the problem and a distinct non-zero status; nothing hangs.
set -u
vmm=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# expect STATUS NEEDLE -- ARGS...: exit status and a single stderr line with NEEDLE.
expect() {
	local want=$1 needle=$2 status lines
	shift 3
	timeout 20 "$vmm" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$status" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -qF -- "$needle" "$tmp/err"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $* -> status $status (want $want), stderr ($lines lines):" >&2
		cat "$tmp/err" >&2
	fi
}

touch "$tmp/vmlinux" "$tmp/disk.img"
printf '#!/bin/sh\necho "QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7)"\n' >"$tmp/qemu-old"
chmod +x "$tmp/qemu-old"
ok=(--kernel "$tmp/vmlinux" --disk "$tmp/disk.img")

expect 2 "--kernel is required" --
expect 2 "--disk is required" -- --kernel "$tmp/vmlinux"
expect 2 "kernel '/nonexistent/vmlinux': No such file" -- --kernel /nonexistent/vmlinux --disk "$tmp/disk.img"
expect 2 "disk '/nonexistent/disk': No such file" -- --kernel "$tmp/vmlinux" --disk /nonexistent/disk
expect 2 "not a regular file" -- --kernel "$tmp" --disk "$tmp/disk.img"
expect 2 "--memory 'abc'" -- "${ok[@]}" --memory abc
expect 2 "--vcpus '100'" -- "${ok[@]}" --vcpus 100
expect 2 "--engine 'vmware'" -- "${ok[@]}" --engine vmware
expect 2 "unknown option '--bogus'" -- "${ok[@]}" --bogus
expect 2 "--display '1280'" -- "${ok[@]}" --display 1280
expect 2 "--display '10x10'" -- "${ok[@]}" --display 10x10
expect 2 "--display '800x600x2'" -- "${ok[@]}" --display 800x600x2
expect 2 "--vnc '5900x'" -- "${ok[@]}" --vnc 5900x
expect 2 "'localhost' is not an IPv4 address" -- "${ok[@]}" --vnc localhost:5900
expect 2 "--vnc needs --vnc-password-file" -- "${ok[@]}" --vnc 5900
expect 2 "--vnc needs a screen" -- "${ok[@]}" --display none --vnc 0 --vnc-password-file "$tmp/pw"
expect 2 "need --vnc" -- "${ok[@]}" --vnc-view-only
expect 2 "--serial '/nonexistent/dir/console'" -- "${ok[@]}" --serial /nonexistent/dir/console
expect 1 "not found" -- "${ok[@]}" --qemu /nonexistent/qemu-system-x86_64
expect 1 "is 7.2; Cubicle needs 10" -- "${ok[@]}" --qemu "$tmp/qemu-old"
if grep -qwE 'vmx|svm' /proc/cpuinfo && [ -w /dev/kvm ]; then
	echo "note: this host has hardware virtualization; --engine qemu-kvm is allowed here"
else
	expect 1 "no hardware virtualization" -- "${ok[@]}" --engine qemu-kvm
fi

"$vmm" --help >"$tmp/out" 2>&1 && grep -q '^usage: cubicle-vmm' "$tmp/out" &&
	grep -q 'Exit status' "$tmp/out" && passed=$((passed + 1)) ||
	{ failed=$((failed + 1)); echo "FAIL: --help" >&2; }

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
