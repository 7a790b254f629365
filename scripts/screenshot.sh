#!/usr/bin/env bash
# Saves a PNG screenshot of a running sandbox through its control socket.
# usage: screenshot.sh CONTROL_SOCKET OUT.png
set -euo pipefail
[ "${1:-}" = "--help" ] && { echo "usage: $0 CONTROL_SOCKET OUT.png"; exit 0; }
[ $# -eq 2 ] || { echo "usage: $0 CONTROL_SOCKET OUT.png" >&2; exit 2; }
python3 - "$1" "$2" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"screenshot","format":"png"}\n')
f = s.makefile("rb")
head = json.loads(f.readline())
if not head.get("ok"):
    sys.exit("screenshot: " + head.get("message", "refused"))
with open(sys.argv[2], "wb") as out:
    out.write(f.read(head["bytes"]))
PY
