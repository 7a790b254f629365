#!/usr/bin/env bash
# The `cubicle` client as a user meets it.
#
#   test_cli.sh usage CUBICLE                  (unit) help, usage errors, a server
#                                              that is not there, and a fake
#                                              cubicled's answers: errors, exec's
#                                              stream and statuses, downloads
#   test_cli.sh vm CUBICLE CUBICLED GUEST_DIR  (vm) a real cubicled and sandbox
#
# Every check asserts; the summary line says how many failed.
set -u
mode=$1 cubicle=$2
tmp=$(mktemp -d /tmp/cubicle-cli-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); }
bad() {
	failed=$((failed + 1))
	echo "FAIL: $*" >&2
	[ -s "$tmp/err" ] && sed 's/^/  stderr: /' "$tmp/err" >&2
	[ -s "$tmp/out" ] && head -c 600 "$tmp/out" | sed 's/^/  stdout: /' >&2
	return 0
}

# run ARGS...: cubicle with stdin from /dev/null, its output in $tmp/out and $tmp/err.
run() {
	timeout 120 "$cubicle" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
}

# expect STATUS NEEDLE -- ARGS...: that status, and one line on stderr holding NEEDLE.
expect() {
	local want=$1 needle=$2
	shift 3
	run "$@"
	if [ "$status" -eq "$want" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
		grep -qF -- "$needle" "$tmp/err"; then ok; else
		bad "cubicle $* -> status $status (want $want and one line with '$needle')"
	fi
}

# expect_out STATUS WANT_STDOUT -- ARGS...: that status and exactly that stdout.
expect_out() {
	local want=$1 out=$2
	shift 3
	run "$@"
	if [ "$status" -eq "$want" ] && [ "$(cat "$tmp/out")" = "$out" ]; then ok; else
		bad "cubicle $* -> status $status (want $want), stdout '$(head -c 200 "$tmp/out")' (want '$out')"
	fi
}

# check DESCRIPTION COMMAND...: the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok; else bad "$what"; fi
}

commands=(create list get kill timeout screenshot move click scroll type key drag cursor
	actions stream exec cp help)

usage_tests() {
	local c
	run --help
	check "--help: status 0" [ "$status" -eq 0 ]
	check "--help: usage" grep -q '^usage: cubicle \[--url URL\]' "$tmp/out"
	run
	check "no command: status 2" [ "$status" -eq 2 ]
	for c in "${commands[@]}"; do
		run "$c" --help
		if [ "$status" -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^usage: cubicle $c" &&
			[ ! -s "$tmp/err" ]; then ok; else bad "$c --help"; fi
		run help "$c"
		if [ "$status" -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^usage: cubicle $c"; then
			ok; else bad "help $c"; fi
		# No command reaches the network before its arguments are good.
		expect 2 "$c: unknown option '--bogus' (see 'cubicle $c --help')" -- \
			--url http://127.0.0.1:1 "$c" --bogus
	done
	expect 2 "unknown command 'bogus' (see 'cubicle --help')" -- bogus
	expect 2 "unknown option '--nope' (see 'cubicle --help')" -- --nope list
	expect 2 "--url needs a value" -- --url
	expect 2 "help: unknown command 'nope'" -- help nope
	expect 2 "create: --vcpus 'two': want a whole number" -- create --vcpus two
	expect 2 "create: --memory '-5': want a whole number" -- create --memory -5
	expect 2 "create: --resolution '1280': want WxH" -- create --resolution 1280
	expect 2 "create: --meta 'user': want KEY=VALUE" -- create --meta user
	expect 2 "create: --json takes no value" -- create --json=yes
	expect 2 "create: unexpected argument 'extra'" -- create extra
	expect 2 "list: --state 'asleep'" -- list --state asleep
	expect 2 "get: missing arguments: want ID" -- get
	expect 2 "get: unexpected argument 'b'" -- get a b
	expect 2 "get: an empty first argument" -- get ''
	expect 2 "kill: missing arguments: want ID..." -- kill
	expect 2 "timeout: SECONDS 'soon': want a whole number" -- timeout x soon
	expect 2 "timeout: SECONDS '0'" -- timeout x 0
	expect 2 "screenshot: missing -o FILE" -- screenshot x
	expect 2 "screenshot: -o needs a value" -- screenshot x -o
	expect 2 "screenshot: --format 'gif'" -- screenshot x -o a.gif --format gif
	expect 2 "screenshot: --quality '101'" -- screenshot x -o a.jpg --quality 101
	expect 2 "screenshot: --scale '2'" -- screenshot x -o a.png --scale 2
	expect 2 "screenshot: --scale '0.5x'" -- screenshot x -o a.png --scale 0.5x
	expect 2 "screenshot: --scale and --width" -- screenshot x -o a.png --scale 0.5 --width 10
	expect 2 "screenshot: --region '1,2,3'" -- screenshot x -o a.png --region 1,2,3
	expect 2 "move: missing arguments: want ID X Y" -- move x 1
	expect 2 "move: Y '-1'" -- move x 1 -1
	expect 2 "move: X '1e3'" -- move x 1e3 4
	expect 2 "click: missing Y" -- click x 5
	expect 2 "click: --button 'huge'" -- click x --button huge
	expect 2 "click: --count '0'" -- click x --count 0
	expect 2 "scroll: --direction 'sideways'" -- scroll x --direction sideways
	expect 2 "scroll: --amount 'lots'" -- scroll x --amount lots
	expect 2 "type: missing arguments: want ID TEXT" -- type x
	expect 2 "type: --delay '-3'" -- type x hi --delay -3
	expect 2 "type: TEXT: control character 0x07" -- type x "$(printf 'a\ab')"
	expect 2 "key: missing arguments: want ID KEYS..." -- key x
	expect 2 "drag: Y2 'z'" -- drag x 1 2 3 z
	expect 2 "cursor: unexpected argument '5'" -- cursor x 5
	expect 2 "actions: unexpected argument 'b'" -- actions x a b c
	expect 2 "stream: --view-only takes no value" -- stream x --view-only=1
	expect 2 "exec: missing arguments: want ID CMD..." -- exec x
	expect 2 "exec: --timeout-ms 'never'" -- exec --timeout-ms never x true
	expect 2 "exec: --env 'X': want KEY=VALUE" -- exec --env X x true
	expect 2 "cp: missing arguments: want SRC DST" -- cp a
	expect 2 "cp: want SRC or DST in a sandbox" -- cp a b
	expect 2 "cp: SRC and DST are both in sandboxes" -- cp x:/a y:/b
	expect 2 "cp: --mode '9'" -- cp --mode 9 a x:/b
	expect 2 "cp: --mode is for uploads" -- cp --mode 644 x:/a b

	# Nobody listens on port 1: one line, status 1; exec's own failure is 125.
	expect 1 "cannot reach http://127.0.0.1:1" -- --url http://127.0.0.1:1 list
	expect 1 "cannot reach http://127.0.0.1:1" -- --url http://127.0.0.1:1 get x
	expect 125 "cannot reach http://127.0.0.1:1" -- --url http://127.0.0.1:1 exec x true
	CUBICLE_URL=http://127.0.0.1:1/ expect 1 "cannot reach http://127.0.0.1:1:" -- kill x
	expect 1 "API key file $tmp/none" -- --url http://127.0.0.1:1 --key-file "$tmp/none" get x
	expect 125 "API key file $tmp/none" -- --url http://127.0.0.1:1 --key-file "$tmp/none" \
		exec x true
}

# A fake cubicled on a free port: canned answers by sandbox id, each request
# logged to $tmp/requests (METHOD PATH BODY, bodies of uploads to $tmp/upload).
fake_server() {
	python3 - "$tmp" <<'EOF' >"$tmp/port" &
import http.server, json, sys, time, os, datetime, urllib.parse
tmp = sys.argv[1]
KEY = "Bearer k-0123456789abcdef"

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                n = int(self.rfile.readline().split(b";")[0], 16)
                data += self.rfile.read(n)
                self.rfile.readline()
                if n == 0:
                    return data
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))
    def answer(self, status, obj=None, raw=None, ctype="application/json", headers=()):
        data = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def stream(self, pieces):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        for p in pieces:
            self.wfile.write(p.encode())
            self.wfile.flush()
            time.sleep(0.05)
    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        parts = url.path.split("/")
        body = self.body()
        with open(tmp + "/requests", "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path,
                    body.decode("utf-8", "replace") if self.command != "PUT" else len(body)))
        if self.headers.get("Authorization") != KEY:
            return self.answer(401, {"code": "unauthorized", "message": "want the API key"})
        sid = parts[2] if len(parts) > 2 else ""
        route = "/".join(parts[3:])
        if sid == "html":
            return self.answer(502, raw=b"<html>\nBad gateway</html>", ctype="text/html")
        if sid == "missing":
            return self.answer(404, {"code": "sandbox_not_found", "message": "no sandbox 'missing'\nreally"})
        if url.path == "/sandboxes" and self.command == "GET":
            made = datetime.datetime.utcnow() - datetime.timedelta(hours=2, minutes=5)
            sb = {"id": "3f0c9a7be21d4c55", "state": "running", "template": "desktop",
                  "resolution": "1280x800", "created_at": made.strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "timeout_left_s": 125}
            return self.answer(200, {"sandboxes": [sb]})
        if url.path == "/sandboxes" and self.command == "POST":
            return self.answer(201, {"id": "3f0c9a7be21d4c55", "state": "running"})
        if route == "commands":
            ev = lambda **k: json.dumps(k) + "\n"
            end = ev(type="exit", exit_code=0, signal=None, timed_out=False)
            script = {
                "ok": [ev(type="stdout", data="h"), ev(type="stdout", data="i\n") + '{"type": "std',
                       'err", "data": "err\\n"}\n', ev(type="exit", exit_code=3, signal=None, timed_out=False)],
                "sig": [ev(type="exit", exit_code=None, signal=9, timed_out=False)],
                "tmo": [ev(type="stdout", data="slow\n"), ev(type="exit", exit_code=None, signal=9, timed_out=True)],
                "err": [ev(type="stdout", data="x"), ev(type="error", code="agent_unreachable", message="gone")],
                "cut": [ev(type="stdout", data="part")],
                "junk": ["this is not json\n"],
                "echo": [ev(type="stdout", data=body.decode() + "\n"), end],
            }.get(sid)
            if script:
                return self.stream(script)
        if route == "files/stat":
            if q["path"] == "/dir":
                return self.answer(200, {"path": "/dir", "type": "dir"})
            return self.answer(404, {"code": "not_found", "message": q["path"] + ": no such file"})
        if route == "files" and self.command == "PUT":
            with open(tmp + "/upload", "wb") as f:
                f.write(body)
            return self.answer(201, {"path": q["path"], "size": len(body)})
        if route == "files" and sid == "trunc":
            return self.answer(200, raw=b"0123456789", ctype="application/octet-stream",
                               headers=[("X-File-Size", "100")])
        if route == "files":
            return self.answer(200, raw=b"hello\n", ctype="application/octet-stream",
                               headers=[("X-File-Size", "6")])
        if route == "screenshot":
            return self.answer(200, raw=url.query.encode(), ctype="image/png")
        if route == "actions":
            acts = json.loads(body)["actions"]
            res = [dict(type=a["type"], **({"x": 7, "y": 8} if a["type"] == "cursor" else {})) for a in acts]
            return self.answer(200, {"results": res})
        if route == "cursor":
            return self.answer(200, {"x": 7, "y": 8})
        if route == "stream":
            return self.answer(200, {"vnc": {"host": "127.0.0.1", "port": 5901, "password": "pw" + q.get("view_only", "")},
                                     "websocket_url": "ws://127.0.0.1:5901/websockify"})
        if route == "" and self.command == "GET":
            return self.answer(200, {"id": sid, "state": "running"})
        if route == "" and self.command == "DELETE":
            return self.answer(204, raw=b"")
        return self.answer(404, {"code": "not_found", "message": "no route " + url.path})
    do_GET = do_POST = do_PUT = do_DELETE = handle_any

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
	pids+=($!)
	for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
	fake_url="http://127.0.0.1:$(cat "$tmp/port")"
}

# The last request the fake saw.
last_request() { tail -n 1 "$tmp/requests"; }

fake_tests() {
	fake_server
	echo "k-0123456789abcdef" >"$tmp/key"
	export CUBICLE_URL=$fake_url CUBICLE_API_KEY_FILE=$tmp/key
	unset CUBICLE_API_KEY

	# The key: from the file, from --key, wrong.
	expect_out 0 "3f0c9a7be21d4c55" -- create --template minimal --meta user=ada --vcpus 2
	check "create sends its fields" grep -qF '{"template":"minimal","vcpus":2,"metadata":{"user":"ada"}}' <(last_request)
	expect 1 "unauthorized: want the API key" -- --key wrong get x
	CUBICLE_API_KEY=k-0123456789abcdef CUBICLE_API_KEY_FILE= expect_out 0 "3f0c9a7be21d4c55" -- create
	expect 1 "no key on its first line" -- --key-file /dev/null get x

	# Errors: one line, CODE: MESSAGE (a newline in it made a space), or the status.
	expect 1 "cubicle: sandbox_not_found: no sandbox 'missing' really" -- get missing
	expect 1 "cubicle: HTTP 502: <html> Bad gateway</html>" -- get html
	expect 1 "cubicle: sandbox_not_found" -- kill a missing b
	check "kill goes on past a failure" [ "$(grep -c '^DELETE' "$tmp/requests")" -eq 3 ]

	# The table: ages and times left made human.
	run list --state running --meta "user=ada lovelace"
	check "list: status 0" [ "$status" -eq 0 ]
	check "list: header" grep -qE '^ID +STATE +TEMPLATE +RESOLUTION +AGE +LEFT$' "$tmp/out"
	check "list: row" grep -qE '^3f0c9a7be21d4c55 +running +desktop +1280x800 +2h +2m$' "$tmp/out"
	check "list: query escaped" grep -qF 'GET /sandboxes?state=running&metadata.user=ada%20lovelace' <(last_request)

	# exec: output as it comes (lines split across writes), statuses.
	run exec ok 'echo hi; echo err >&2; exit 3'
	check "exec: status 3" [ "$status" -eq 3 ]
	check "exec: stdout" [ "$(cat "$tmp/out")" = hi ]
	check "exec: stderr" [ "$(cat "$tmp/err")" = err ]
	run exec sig true
	check "exec: killed by signal 9 -> 137" [ "$status" -eq 137 ]
	run exec tmo true
	check "exec: timed out -> 124" [ "$status" -eq 124 ]
	check "exec: output before the time out" [ "$(cat "$tmp/out")" = slow ]
	expect 125 "cubicle: agent_unreachable: gone" -- exec err true
	expect 125 "ended before its exit status" -- exec cut true
	expect 125 "not an event of the command: this is not json" -- exec junk true
	expect 125 "cubicle: sandbox_not_found" -- exec missing true
	run exec echo 'a b'
	check "exec: one CMD runs through bash" grep -qF '{"cmd":"a b","stream":"ndjson"}' "$tmp/out"
	run exec --cwd /tmp --env A=1 --timeout-ms 5000 echo -- ls -l "x y"
	check "exec: several run as argv; options" grep -qF '{"timeout_ms":5000,"argv":["ls","-l","x y"],"cwd":"/tmp","env":{"A":"1"},"stream":"ndjson"}' "$tmp/out"
	printf 'in\0put' >"$tmp/stdin"
	timeout 20 "$cubicle" exec -i echo cat <"$tmp/stdin" >"$tmp/out" 2>"$tmp/err"
	check "exec -i: stdin sent" grep -qF '"stdin":"in\u0000put"' "$tmp/out"

	# Files: downloads whole or not at all; names escaped; folders.
	mkdir "$tmp/dl"
	expect_out 0 "" -- cp "s:/a b/f?x=1&y" "$tmp/dl/f"
	check "cp: the path escaped" grep -qF 'GET /sandboxes/s/files?path=%2Fa%20b%2Ff%3Fx%3D1%26y' <(last_request)
	check "cp: downloaded" [ "$(cat "$tmp/dl/f")" = hello ]
	expect_out 0 "" -- cp s:/var/log/name.log "$tmp/dl"
	check "cp: into a folder" [ "$(cat "$tmp/dl/name.log")" = hello ]
	expect_out 0 "hello" -- cp s:/x -
	expect 1 "the download ended after 10 of 100 bytes" -- cp trunc:/x "$tmp/dl/t"
	expect 1 "cubicle: sandbox_not_found" -- cp missing:/x "$tmp/dl/m"
	expect 1 "$tmp/nodir/x" -- cp s:/x "$tmp/nodir/x"
	check "cp: no file or temp file left by failures" [ "$(ls "$tmp/dl")" = "$(printf 'f\nname.log')" ]
	head -c 300000 /dev/urandom >"$tmp/up"
	expect_out 0 "" -- cp --mode 600 "$tmp/up" s:/dir
	check "cp: upload into a guest folder" grep -qF "PUT /sandboxes/s/files?path=%2Fdir%2Fup&mode=600 300000" <(last_request)
	check "cp: upload bytes" cmp -s "$tmp/up" "$tmp/upload"
	timeout 20 "$cubicle" cp - s:/new <"$tmp/up" >"$tmp/out" 2>"$tmp/err"
	check "cp: upload from stdin (chunked)" cmp -s "$tmp/up" "$tmp/upload"
	expect 1 "$tmp/nofile: No such file" -- cp "$tmp/nofile" s:/x
	expect 1 "$tmp/dl: Is a directory" -- cp "$tmp/dl" s:/x

	# Screenshots: the query, the format from the name; whole or not at all.
	expect_out 0 "" -- screenshot s -o "$tmp/dl/shot.JPG" --scale 0.5 --region 0,0,10,10 --cursor
	check "screenshot: query" [ "$(cat "$tmp/dl/shot.JPG")" = "format=jpeg&scale=0.5&region=0%2C0%2C10%2C10&cursor=true" ]
	expect_out 0 "format=png&width=320" -- screenshot s -o - --width 320
	expect 1 "cubicle: sandbox_not_found" -- screenshot missing -o "$tmp/dl/m.png"
	check "screenshot: nothing left by a failure" [ "$(ls "$tmp/dl" | tr '\n' ' ')" = "f name.log shot.JPG " ]

	# The hands.
	expect_out 0 "" -- click s 10 20 --button right --count 2 --modifiers ctrl+shift
	check "click: action" grep -qF '{"actions":[{"type":"click","button":"right","modifiers":"ctrl+shift","x":10,"y":20,"count":2}]}' <(last_request)
	expect_out 0 "" -- key s ctrl+s Return
	check "key: one action per argument" grep -qF '[{"type":"key","keys":"ctrl+s"},{"type":"key","keys":"Return"}]' <(last_request)
	printf 'h\xc3\xa9\n' >"$tmp/text"
	timeout 20 "$cubicle" type s - <"$tmp/text"
	check "type -: stdin" grep -qF '[{"type":"type","text":"hé\n"}]' <(last_request)
	expect_out 0 "" -- type s -- --not-an-option
	expect_out 0 "" -- drag s 1 2 3 4
	check "drag: path" grep -qF '"path":[[1,2],[3,4]]' <(last_request)
	expect_out 0 "" -- scroll s --amount 3
	check "scroll: defaults down" grep -qF '{"type":"scroll","direction":"down","amount":3}' <(last_request)
	expect_out 0 "7 8" -- cursor s
	echo '[{"type": "cursor"}]' >"$tmp/batch"
	run actions s "$tmp/batch"
	check "actions: a bare list" grep -qF '"x": 7' "$tmp/out"
	echo '{"actions": [' >"$tmp/batch"
	expect 1 "$tmp/batch: not JSON" -- actions s "$tmp/batch"
	expect_out 0 "$(printf 'vnc: vnc://127.0.0.1:5901\npassword: pwtrue\nwebsocket: ws://127.0.0.1:5901/websockify')" -- stream s --view-only
}

# --- a real cubicled ------------------------------------------------------------------

vm_tests() {
	local cubicled=$1 guest=$2 url id i
	mkdir "$tmp/data"
	"$cubicled" --data-dir "$tmp/data" --listen 127.0.0.1:0 --guest-dir "$guest" --no-network \
		>"$tmp/cubicled.out" 2>"$tmp/cubicled.log" &
	pids+=($!)
	for i in $(seq 300); do grep -q 'listening on' "$tmp/cubicled.out" 2>/dev/null && break; sleep 0.1; done
	url=$(grep -o 'http://[0-9.:]*' "$tmp/cubicled.out" | head -n 1)
	if [ -z "$url" ]; then bad "cubicled did not start"; cat "$tmp/cubicled.log" >&2; return; fi
	export CUBICLE_URL=$url CUBICLE_API_KEY_FILE=$tmp/data/api-key
	unset CUBICLE_API_KEY

	run create --template minimal --meta test=cli --timeout 900
	id=$(cat "$tmp/out")
	if [ "$status" -ne 0 ] || ! [[ $id =~ ^[0-9a-f]{16}$ ]]; then
		bad "create -> status $status"; tail -n 20 "$tmp/cubicled.log" >&2; return
	fi
	ok
	run list
	check "list shows it running" grep -qE "^$id +running +minimal +1280x800 " "$tmp/out"
	run list --meta test=other
	check "list --meta: status 0" [ "$status" -eq 0 ]
	check "list --meta filters it out" [ "$(wc -l <"$tmp/out")" -eq 1 ]
	run get "$id"
	check "get: JSON" grep -qF "\"id\": \"$id\"" "$tmp/out"

	run screenshot "$id" -o "$tmp/x.png"
	check "screenshot: status 0" [ "$status" -eq 0 ]
	check "screenshot: PNG magic" [ "$(od -An -tx1 -N8 "$tmp/x.png" | tr -d ' ')" = 89504e470d0a1a0a ]
	check "screenshot: 1280x800" [ "$(od -An -tx1 -j16 -N8 "$tmp/x.png" | tr -d ' ')" = 0000050000000320 ]
	run screenshot "$id" -o "$tmp/x.jpg" --scale 0.5
	check "screenshot: JPEG magic" [ "$(od -An -tx1 -N3 "$tmp/x.jpg" | tr -d ' ')" = ffd8ff ]
	check "screenshot: JPEG at half" bash -c "file '$tmp/x.jpg' | grep -q '640x400'"

	run exec "$id" 'echo hi; echo err >&2; exit 3'
	check "exec: status 3" [ "$status" -eq 3 ]
	check "exec: stdout hi" [ "$(cat "$tmp/out")" = hi ]
	check "exec: stderr err" [ "$(cat "$tmp/err")" = err ]
	expect_out 0 "a-b c-" -- exec "$id" printf '%s-' a 'b c'
	run exec --timeout-ms 1000 "$id" 'sleep 30'
	check "exec: timed out -> 124" [ "$status" -eq 124 ]
	run exec "$id" 'kill -9 $$'
	check "exec: SIGKILL -> 137" [ "$status" -eq 137 ]
	echo piped >"$tmp/in"
	timeout 60 "$cubicle" exec -i "$id" cat <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
	check "exec -i: stdin" [ "$(cat "$tmp/out")" = piped ]
	expect 125 "sandbox_not_found" -- exec 0000000000000000 true

	head -c $((20 << 20)) /dev/urandom >"$tmp/big"
	expect_out 0 "" -- cp "$tmp/big" "$id:/tmp/big"
	run exec "$id" 'sha256sum /tmp/big'
	check "cp up: sha256 in the guest" [ "$(cut -d' ' -f1 "$tmp/out")" = "$(sha256sum <"$tmp/big" | cut -d' ' -f1)" ]
	mkdir "$tmp/back"
	expect_out 0 "" -- cp "$id:/tmp/big" "$tmp/back"
	check "cp down: sha256" [ "$(sha256sum <"$tmp/back/big")" = "$(sha256sum <"$tmp/big")" ]
	expect 1 "not_found" -- cp "$id:/tmp/nothing" "$tmp/back/nothing"
	check "cp down: nothing left by a failure" [ "$(ls "$tmp/back")" = big ]

	expect_out 0 "" -- move "$id" 321 123
	expect_out 0 "321 123" -- cursor "$id"
	expect_out 0 "" -- click "$id" 10 20
	expect_out 0 "10 20" -- cursor "$id"
	expect_out 0 "" -- drag "$id" 100 100 400 300
	expect_out 0 "400 300" -- cursor "$id"
	expect_out 0 "" -- scroll "$id" 50 60 --direction up --amount 2
	expect_out 0 "" -- key "$id" ctrl+s Return
	expect 1 "invalid_request: action 0 (key): unknown key name 'nosuchkey'" -- key "$id" nosuchkey
	expect_out 0 "" -- type "$id" 'hello'
	expect 1 "invalid_request" -- move "$id" 5000 5000
	echo '[{"type": "move", "x": 5, "y": 6}, {"type": "cursor"}]' >"$tmp/batch"
	run actions "$id" "$tmp/batch"
	check "actions: results" grep -qE '"x": 5,' "$tmp/out"

	run stream "$id"
	check "stream: vnc line" grep -qE '^vnc: vnc://127\.0\.0\.1:[0-9]+$' "$tmp/out"
	check "stream: password line" grep -qE '^password: .+$' "$tmp/out"
	check "stream: websocket line" grep -qE '^websocket: ws://127\.0\.0\.1:[0-9]+/websockify$' "$tmp/out"
	run timeout "$id" 600
	check "timeout: prints the end" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$tmp/out"

	expect_out 0 "" -- kill "$id"
	run list
	check "list after kill: status 0" [ "$status" -eq 0 ]
	check "list: gone after kill" [ "$(wc -l <"$tmp/out")" -eq 1 ]
	expect 1 "cubicle: sandbox_not_found" -- get "$id"
}

case $mode in
usage)
	usage_tests
	fake_tests
	;;
vm)
	vm_tests "$3" "$4"
	;;
*)
	echo "usage: $0 usage CUBICLE | vm CUBICLE CUBICLED GUEST_DIR" >&2
	exit 2
	;;
esac
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
