#!/usr/bin/env python3
"""A server the network tests start inside a guest, reached through cubicled.

usage: guestweb.py ADDR PORT

GET /hello      one line naming the port
GET /chunked    three chunks (Transfer-Encoding: chunked)
GET /headers    the request's headers, as the guest got them
POST /echo      the body back, however it came (length or chunked)
GET /ws         a websocket (RFC 6455) that echoes each text or binary message
"""
import base64
import hashlib
import http.server
import struct
import sys

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def read_exact(f, n):
    data = b""
    while len(data) < n:
        more = f.read(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data


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
            self.reply(("hello from guest port %d\n" % self.server.server_port).encode())
        elif self.path == "/headers":
            self.reply(str(self.headers).encode())
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"one ", b"two ", b"three\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/ws":
            self.websocket()
        else:
            self.send_error(404)

    def do_POST(self):
        if self.path != "/echo":
            self.send_error(404)
            return
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            body = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                body += read_exact(self.rfile, size)
                self.rfile.readline()
        else:
            body = read_exact(self.rfile, int(self.headers.get("Content-Length", "0")))
        self.reply(body, "application/octet-stream")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        try:
            while True:
                b0, b1 = read_exact(self.rfile, 2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", read_exact(self.rfile, 2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", read_exact(self.rfile, 8))[0]
                mask = read_exact(self.rfile, 4) if b1 & 0x80 else b"\0\0\0\0"
                data = bytes(c ^ mask[i % 4] for i, c in enumerate(read_exact(self.rfile, n)))
                op = b0 & 0x0F
                if op == 8:
                    self.wfile.write(b"\x88\x00")
                    return
                head = bytes([0x80 | op])
                if n < 126:
                    head += bytes([n])
                elif n < 65536:
                    head += b"\x7e" + struct.pack("!H", n)
                else:
                    head += b"\x7f" + struct.pack("!Q", n)
                self.wfile.write(head + data)
                self.wfile.flush()
        except EOFError:
            return
        finally:
            self.close_connection = True

    def log_message(self, fmt, *args):
        sys.stderr.write(fmt % args + "\n")


def main():
    server = http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
