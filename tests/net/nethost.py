#!/usr/bin/env python3
"""The network tests' web server in the lab's "internet" namespace.

usage: nethost.py WEB_ADDR [DECOY_ADDR...]   (port 80 on each)

On WEB_ADDR: /hello (one line), /page (a page of one colour, for a
screenshot), /big (100 MiB of fixed bytes; /big.sha256 is their digest),
/stream (a line every 100 ms for at most 60 s), POST /sink (the body read
and dropped, for uploads). On a decoy: /hello names
the decoy, so a test that reaches one sees where it got to.
"""
import hashlib
import http.server
import random
import sys
import threading
import time

BLOCK = random.Random(7).randbytes(1 << 20)
BIG_BLOCKS = 100
BIG_SHA = hashlib.sha256(BLOCK * BIG_BLOCKS).hexdigest()
PAGE = (b"<!doctype html><title>cubicle net</title>"
        b"<body style='margin:0;background:#13c4a3;height:100vh'></body>")


def handler_for(addr):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, body, ctype="text/plain"):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/hello":
                self.reply(("hello from %s\n" % addr).encode())
            elif self.path == "/page":
                self.reply(PAGE, "text/html")
            elif self.path == "/big.sha256":
                self.reply((BIG_SHA + "\n").encode())
            elif self.path == "/big":
                self.send_response(200)
                self.send_header("Content-Length", str(len(BLOCK) * BIG_BLOCKS))
                self.end_headers()
                for _ in range(BIG_BLOCKS):
                    self.wfile.write(BLOCK)
            elif self.path == "/stream":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                for i in range(600):
                    self.wfile.write(b"line %d\n" % i)
                    self.wfile.flush()
                    time.sleep(0.1)
            else:
                self.send_error(404)

        def do_POST(self):
            if self.path != "/sink":
                self.send_error(404)
                return
            left = int(self.headers.get("Content-Length", "0"))
            while left > 0:
                got = self.rfile.read(min(left, 1 << 20))
                if not got:
                    break
                left -= len(got)
            self.reply(b"ok\n")

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (addr, fmt % args))

    return Handler


def main():
    servers = [http.server.ThreadingHTTPServer((a, 80), handler_for(a)) for a in sys.argv[1:]]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
