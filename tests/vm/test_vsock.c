/*
 * virtio-vsock end to end: a real guest's AF_VSOCK sockets (python3 in the
 * minimal image) against host programs on cubicle-vmm's unix socket. Many
 * connections at once with flow control both ways, a host that reads slowly,
 * guest-initiated connections, refused ports, a bad handshake and half-close.
 *
 * usage: test_vsock CUBICLE_VMM GUEST_DIR
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../check.h"
#include "clock.h"
#include "fdio.h"
#include "usock.h"
#include "vmtest.h"

#define NCONN 20
#define ECHO_BYTES (1u << 20)
#define SLOW_BYTES (8u << 20)

/* Guest side: an echo server on port 1234, a bulk sender on 1235. */
static const char guest_py[] =
	"import socket,threading\n"
	"def echo(c):\n"
	"  while True:\n"
	"    d=c.recv(65536)\n"
	"    if not d: break\n"
	"    c.sendall(d)\n"
	"  c.close()\n"
	"def send(c):\n"
	"  c.sendall(bytes(i%251 for i in range(" "8388608" ")))\n"
	"  c.close()\n"
	"def listen(port):\n"
	"  s=socket.socket(socket.AF_VSOCK,socket.SOCK_STREAM)\n"
	"  s.bind((socket.VMADDR_CID_ANY,port))\n"
	"  s.listen(64)\n"
	"  return s\n"
	"def serve(s,fn):\n"
	"  while True:\n"
	"    c,_=s.accept()\n"
	"    threading.Thread(target=fn,args=(c,),daemon=True).start()\n"
	"a,b=listen(1234),listen(1235)\n"
	"threading.Thread(target=serve,args=(b,send),daemon=True).start()\n"
	"print('vsock-servers-up',flush=True)\n"
	"serve(a,echo)\n";

static char sock_path[90];   /* leaves room for "_<port>" in sun_path */
static struct vm vm;

static char *b64(const char *s)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 0;
	char *out = malloc(n * 4 / 3 + 8);

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)(uint8_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(uint8_t)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (uint8_t)s[i + 2];
		out[o++] = t[(v >> 18) & 63];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* Reads one line (the handshake answer) byte by byte, so no data is taken. */
static bool read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 30000) <= 0 || read(fd, buf + n, 1) != 1)
			break;
		if (buf[n++] == '\n')
			break;
	}
	buf[n] = '\0';
	return n > 0 && buf[n - 1] == '\n';
}

/* A host connection to guest port; -1 if the guest did not accept. */
static int vsock_connect(uint32_t port)
{
	char cmd[32], line[64];
	int fd = usock_connect(sock_path, 0);

	if (fd < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "CONNECT %u\n", port);
	if (fdio_write_all(fd, cmd, strlen(cmd)) < 0 || !read_line(fd, line, sizeof(line)) ||
	    strncmp(line, "OK ", 3) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint8_t pattern(unsigned int conn, size_t i)
{
	return (uint8_t)(i * 7 + conn * 13 + (i >> 12));
}

/* NCONN connections to the echo server at once, 1 MiB each, all in flight. */
static void test_many_connections(void)
{
	int fd[NCONN];
	size_t sent[NCONN] = { 0 }, got[NCONN] = { 0 };
	bool bad[NCONN] = { false };
	uint8_t *data = malloc(ECHO_BYTES);
	unsigned int done = 0;

	for (unsigned int c = 0; c < NCONN; c++) {
		fd[c] = vsock_connect(1234);
		CHECK(fd[c] >= 0);
		if (fd[c] < 0)
			return;
	}
	while (done < NCONN) {
		struct pollfd p[NCONN];

		for (unsigned int c = 0; c < NCONN; c++)
			p[c] = (struct pollfd){ fd[c], (short)(POLLIN | (sent[c] < ECHO_BYTES ? POLLOUT : 0)), 0 };
		if (poll(p, NCONN, 60000) <= 0) {
			CHECK(!"echo traffic stalled");
			break;
		}
		for (unsigned int c = 0; c < NCONN; c++) {
			if ((p[c].revents & POLLOUT) && sent[c] < ECHO_BYTES) {
				size_t n = ECHO_BYTES - sent[c] > 65536 ? 65536 : ECHO_BYTES - sent[c];

				for (size_t i = 0; i < n; i++)
					data[i] = pattern(c, sent[c] + i);
				ssize_t w = write(fd[c], data, n);
				if (w > 0)
					sent[c] += (size_t)w;
				if (sent[c] == ECHO_BYTES)
					shutdown(fd[c], SHUT_WR);   /* half-close: the guest sees EOF */
			}
			if (p[c].revents & (POLLIN | POLLHUP)) {
				ssize_t r = read(fd[c], data, 65536);

				if (r <= 0) {
					done++;
					fd[c] = -fd[c] - 2;         /* stop polling it */
					continue;
				}
				for (ssize_t i = 0; i < r; i++)
					if (data[i] != pattern(c, got[c] + (size_t)i))
						bad[c] = true;
				got[c] += (size_t)r;
			}
		}
	}
	for (unsigned int c = 0; c < NCONN; c++) {
		CHECK(got[c] == ECHO_BYTES && !bad[c]);
		close(fd[c] >= 0 ? fd[c] : -fd[c] - 2);
	}
	free(data);
}

/* The guest sends 8 MiB to a host that reads slowly: nothing is lost. */
static void test_slow_reader(void)
{
	int fd = vsock_connect(1235);
	uint8_t buf[16384];
	size_t got = 0;
	bool ok = true;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != (uint8_t)((got + (size_t)i) % 251))
				ok = false;
		got += (size_t)r;
		if ((got / sizeof(buf)) % 16 == 0)
			clk_pause_ms(20);    /* 20 ms every 256 KiB: far slower than the guest */
	}
	CHECK(got == SLOW_BYTES);
	CHECK(ok);
	close(fd);
}

/* The guest connects to the host: PATH_<port>. */
static void test_guest_to_host(void)
{
	char lpath[108], buf[64] = "";
	int l, c;
	ssize_t n;

	snprintf(lpath, sizeof(lpath), "%s_5000", sock_path);
	l = usock_listen(lpath, 4, 0);
	CHECK(l >= 0);
	vm_send(&vm, "python3 -c \"import socket;s=socket.socket(socket.AF_VSOCK);"
		     "s.connect((2,5000));s.sendall(b'from-the-guest');print(s.recv(10))\"\n");
	struct pollfd p = { l, POLLIN, 0 };
	CHECK(poll(&p, 1, 60000) == 1);
	c = accept(l, NULL, NULL);
	CHECK(c >= 0);
	n = read(c, buf, sizeof(buf) - 1);
	CHECK(n == 14 && memcmp(buf, "from-the-guest", 14) == 0);
	CHECK(write(c, "ack", 3) == 3);
	CHECK(vm_expect(&vm, "b'ack'", 60) != NULL);
	close(c);
	close(l);
	unlink(lpath);

	/* Nothing listens on the host's port 5001: the guest is refused. */
	char *out = vm_run(&vm, "python3 -c \"import socket;s=socket.socket(socket.AF_VSOCK);"
				"s.connect((2,5001))\" 2>&1 | tail -1", 60);
	CHECK(out && strstr(out, "ConnectionResetError"));
	free(out);
}

static void test_refusals(void)
{
	char line[64];
	int fd;

	/* No listener on guest port 4444: the host connection just closes. */
	CHECK(vsock_connect(4444) < 0);
	/* A handshake that is not CONNECT <port>. */
	fd = usock_connect(sock_path, 0);
	CHECK(fd >= 0 && write(fd, "HELLO 1234\n", 11) == 11);
	CHECK(read_line(fd, line, sizeof(line)) && strncmp(line, "ERR", 3) == 0);
	close(fd);
	fd = usock_connect(sock_path, 0);
	CHECK(fd >= 0 && write(fd, "CONNECT 99999999999\n", 20) == 20);
	CHECK(read_line(fd, line, sizeof(line)) && strncmp(line, "ERR", 3) == 0);
	close(fd);
	/* A handshake line that comes in pieces. */
	fd = usock_connect(sock_path, 0);
	CHECK(fd >= 0 && write(fd, "CONNECT 12", 10) == 10);
	clk_pause_ms(200);      /* the rest of the line comes apart from its start */
	CHECK(write(fd, "34\n", 3) == 3);
	CHECK(read_line(fd, line, sizeof(line)) && strncmp(line, "OK ", 3) == 0);
	close(fd);
	/* A client that leaves mid-handshake costs nothing. */
	fd = usock_connect(sock_path, 0);
	CHECK(fd >= 0 && write(fd, "CONN", 4) == 4);
	close(fd);
	/* The device still works. */
	fd = vsock_connect(1234);
	CHECK(fd >= 0 && write(fd, "ping", 4) == 4);
	shutdown(fd, SHUT_WR);
	CHECK(read(fd, line, sizeof(line)) == 4 && memcmp(line, "ping", 4) == 0);
	close(fd);
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/cubicle-vsock-XXXXXX", *cmd, *enc;
	int status;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	CHECK(mkdtemp(dir) != NULL);
	snprintf(sock_path, sizeof(sock_path), "%s/v.sock", dir);
	char *kernel = vm_guest_path(argv[2], "kernel.path"), *image = vm_guest_path(argv[2], "minimal.path");
	char *vm_argv[] = { argv[1], "--kernel", kernel, "--disk", image, "--vcpus", "2",
			    "--memory", "1024", "--vsock", sock_path, NULL };

	CHECK(vm_start(&vm, vm_argv) == 0);
	if (!vm_expect(&vm, "cubicle-agent: ready", 240)) {
		CHECK(!"guest ready");
		goto out;
	}
	vm_send(&vm, "stty -echo\n");
	enc = b64(guest_py);
	cmd = malloc(strlen(enc) + 128);
	sprintf(cmd, "python3 -c \"import base64;exec(base64.b64decode('%s'))\" &\n", enc);
	vm_send(&vm, cmd);
	free(cmd);
	free(enc);
	CHECK(vm_expect(&vm, "vsock-servers-up", 60) != NULL);

	RUN(test_many_connections);
	RUN(test_slow_reader);
	RUN(test_guest_to_host);
	RUN(test_refusals);

	vm_send(&vm, "exit\n");
	status = vm_wait(&vm, 60);
	CHECK(status == 0);
	CHECK(strstr(vm.err_buf, "virtio-vsock:") != NULL);
	CHECK(access(sock_path, F_OK) < 0);     /* the socket file is gone */
out:
	if (check_failed)
		fprintf(stderr, "cubicle-vmm said:\n%s", vm.err_buf);
	vm_free(&vm);
	unlink(sock_path);
	rmdir(dir);
	free(kernel);
	free(image);
	return check_done();
}
