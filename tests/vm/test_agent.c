/*
 * cubicle-agent end to end through cubicle-vmm's vsock socket and the host
 * client library: commands (output, streaming over time, kill, many at once,
 * stdin, timeout, PTY, attach), files (100 MiB both ways, tree operations,
 * errors), the library's typed calls (background commands and their stdin,
 * ps, kill, stat, list, mkdir, rename, remove, display), and two sandboxes
 * over one base image that never see each other's writes while the base
 * stays byte for byte the same.
 *
 * usage: test_agent CUBICLE_VMM GUEST_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"
#include "client.h"
#include "vmtest.h"

#define BIG (100u << 20)

static char dir[] = "/tmp/cubicle-agent-test-XXXXXX";
static char vsock[128];
static char *kernel, *image, *vmm;
static struct vm *vm_a;         /* the first sandbox, for its console */

struct out {
	char buf[65536];
	size_t len;
	double first_at[64];    /* when each stdout chunk arrived */
	int chunks;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void collect(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	struct out *o = opaque;

	if (stream == 1 && o->chunks < 64)
		o->first_at[o->chunks++] = now();
	if (o->len + len < sizeof(o->buf)) {
		memcpy(o->buf + o->len, buf, len);
		o->len += len;
		o->buf[o->len] = '\0';
	}
}

struct count {
	size_t bytes;
	uint32_t sum;
};

/* Counts and hashes stdout, for outputs too big to keep. */
static void count_output(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	struct count *c = opaque;

	if (stream != 1)
		return;
	for (uint32_t i = 0; i < len; i++)
		c->sum = c->sum * 31 + buf[i];
	c->bytes += len;
}

/* Runs a shell command; returns its exit code, output in *o. */
static int sh(const char *cmd, struct out *o)
{
	struct agent_exec x = { .cmd = cmd, .on_output = collect, .opaque = o };
	struct agent_exit res;
	struct agent_error err;

	memset(o, 0, sizeof(*o));
	if (agent_exec_run(vsock, &x, &res, &err) < 0)
		return -1000;
	return res.exit_code;
}

static void test_commands(void)
{
	struct out o;
	struct agent_exec x = { 0 };
	struct agent_exit res;
	struct agent_error err;
	const char *argv[] = { "uname", "-a", NULL };

	x.argv = argv;
	x.on_output = collect;
	x.opaque = &o;
	memset(&o, 0, sizeof(o));
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0);
	CHECK(res.exit_code == 0 && strstr(o.buf, "Linux cubicle 6.12"));

	CHECK(sh("seq 1 100 | grep 7 | wc -l", &o) == 0 && strcmp(o.buf, "19\n") == 0);
	CHECK(sh("id -un; pwd", &o) == 0 && strcmp(o.buf, "user\n/home/user\n") == 0);
	CHECK(sh("echo out; echo err >&2; exit 7", &o) == 7);
	CHECK(strstr(o.buf, "out\n") && strstr(o.buf, "err\n"));

	/* env, cwd, user root */
	const char *env[] = { "GREETING=hi there", NULL };
	x = (struct agent_exec){ .cmd = "echo \"$GREETING\" $(pwd) $(id -u)", .env = env, .cwd = "/tmp",
				 .user = "root", .on_output = collect, .opaque = &o };
	memset(&o, 0, sizeof(o));
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0 && strcmp(o.buf, "hi there /tmp 0\n") == 0);

	/* stdin */
	x = (struct agent_exec){ .cmd = "tr a-z A-Z", .stdin_data = "shout\n", .stdin_len = 6,
				 .on_output = collect, .opaque = &o };
	memset(&o, 0, sizeof(o));
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0 && strcmp(o.buf, "SHOUT\n") == 0);

	/* Errors are answers: an unknown command, a bad cwd, an unknown user. */
	const char *nope[] = { "no-such-command", NULL };
	x = (struct agent_exec){ .argv = nope };
	CHECK(agent_exec_run(vsock, &x, &res, &err) == -EREMOTEIO);
	CHECK(strcmp(err.code, "ENOENT") == 0 && strstr(err.message, "command not found"));
	x = (struct agent_exec){ .cmd = "true", .cwd = "/nonexistent" };
	CHECK(agent_exec_run(vsock, &x, &res, &err) == -EREMOTEIO && strcmp(err.code, "ENOENT") == 0);
	x = (struct agent_exec){ .cmd = "true", .user = "nobody-here" };
	CHECK(agent_exec_run(vsock, &x, &res, &err) == -EREMOTEIO && strcmp(err.code, "ESRCH") == 0);
	/* A shell that cannot find a command says so with 127, like any shell. */
	CHECK(sh("no-such-command-either", &o) == 127);
}

/* Lines printed over 2 s arrive over 2 s, not all at the end. */
static void test_streaming(void)
{
	struct out o;

	CHECK(sh("for i in 1 2 3 4 5; do echo line $i; sleep 0.5; done", &o) == 0);
	CHECK(o.chunks >= 4);
	if (o.chunks >= 2)
		CHECK(o.first_at[o.chunks - 1] - o.first_at[0] > 1.5);
	CHECK(strstr(o.buf, "line 1\n") && strstr(o.buf, "line 5\n"));
}

static void test_timeout_and_kill(void)
{
	struct agent_exec x = { .cmd = "sleep 1000", .timeout_ms = 500 };
	struct json_object *req, *reply;
	struct agent_exit res;
	struct agent_error err;
	double t0 = now();

	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0);
	CHECK(res.timed_out && res.signal == 9 && now() - t0 < 30);
	/* A command that never stops printing times out too. */
	struct count cnt = { 0 };
	x = (struct agent_exec){ .cmd = "yes", .timeout_ms = 500, .on_output = count_output, .opaque = &cnt };
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0 && res.timed_out && cnt.bytes > 0);

	/* A background command: start, see it in ps, kill it, its stream ends. */
	x = (struct agent_exec){ .cmd = "sleep 1000" };
	req = agent_exec_request(&x);
	int fd = agent_connect(vsock, AGENT_PORT);
	CHECK(fd >= 0 && agent_request(fd, req, &reply, &err) == 0);
	json_object_put(req);
	struct json_object *v;
	int pid = json_object_object_get_ex(reply, "pid", &v) ? json_object_get_int(v) : 0;
	json_object_put(reply);
	CHECK(pid > 1);

	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("ps"));
	CHECK(agent_call(vsock, req, &reply, &err) == 0);
	CHECK(strstr(json_object_to_json_string(reply), "sleep 1000") != NULL);
	json_object_put(req);
	json_object_put(reply);

	/* Reattach from a second connection, then kill it from a third. */
	int fd2 = agent_connect(vsock, AGENT_PORT);
	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("attach"));
	json_object_object_add(req, "pid", json_object_new_int(pid));
	CHECK(fd2 >= 0 && agent_request(fd2, req, &reply, &err) == 0);
	json_object_put(req);
	json_object_put(reply);

	req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("kill"));
	json_object_object_add(req, "pid", json_object_new_int(pid));
	CHECK(agent_call(vsock, req, &reply, &err) == 0);
	json_object_put(reply);
	CHECK(agent_exec_follow(fd, NULL, &res) == 0 && res.signal == 9);
	CHECK(agent_exec_follow(fd2, NULL, &res) == 0 && res.signal == 9);
	close(fd);
	close(fd2);
	/* Gone now: killing it again is an error answer. */
	CHECK(agent_call(vsock, req, &reply, &err) == -EREMOTEIO && strcmp(err.code, "ESRCH") == 0);
	json_object_put(reply);
	json_object_put(req);
}

static void *one_of_many(void *arg)
{
	struct out *o = arg;
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "sleep 0.3; echo job-%d", o->chunks);
	int n = o->chunks;
	o->chunks = sh(cmd, o) == 0 ? n : -1;
	return NULL;
}

static void test_many_at_once(void)
{
	static struct out o[20];
	pthread_t t[20];

	for (int i = 0; i < 20; i++) {
		o[i].chunks = i;
		pthread_create(&t[i], NULL, one_of_many, &o[i]);
	}
	for (int i = 0; i < 20; i++) {
		char want[16];

		pthread_join(t[i], NULL);
		snprintf(want, sizeof(want), "job-%d\n", i);
		CHECK(strcmp(o[i].buf, want) == 0);
	}
}

/* Commands that end at once still report their output and status. */
static void test_quick_commands(void)
{
	const char *argv[] = { "echo", "hi", NULL };
	struct out o;
	struct agent_exec x = { .argv = argv, .on_output = collect, .opaque = &o };
	struct agent_exit res;
	struct agent_error err;
	int ok = 0;

	for (int i = 0; i < 300; i++) {
		memset(&o, 0, sizeof(o));
		ok += agent_exec_run(vsock, &x, &res, &err) == 0 && res.exit_code == 0 &&
		      strcmp(o.buf, "hi\n") == 0;
	}
	CHECK(ok == 300);
}

/* A command that writes while it reads: 4 MiB through `cat` both ways. */
static void test_stdin_echo(void)
{
	size_t n = 4u << 20;
	uint8_t *data = malloc(n);
	struct count want = { 0 }, got = { 0 };
	struct agent_exec x = { .cmd = "cat", .stdin_data = data, .stdin_len = n,
				.on_output = count_output, .opaque = &got };
	struct agent_exit res;
	struct agent_error err;

	getrandom(data, n, 0);
	count_output(&want, 1, data, (uint32_t)n);
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0 && res.exit_code == 0);
	CHECK(got.bytes == n && got.sum == want.sum);
	/* One that stops reading early still reports. */
	x = (struct agent_exec){ .cmd = "head -c 10 >/dev/null; echo done", .stdin_data = data,
				 .stdin_len = n, .on_output = count_output, .opaque = &got };
	memset(&got, 0, sizeof(got));
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0 && res.exit_code == 0 && got.bytes == 5);
	free(data);
}

static void test_pty(void)
{
	struct out o;
	struct agent_exec x = { .cmd = "tty; stty size; test -t 0 && echo interactive",
				.pty = true, .on_output = collect, .opaque = &o };
	struct agent_exit res;
	struct agent_error err;

	memset(&o, 0, sizeof(o));
	CHECK(agent_exec_run(vsock, &x, &res, &err) == 0 && res.exit_code == 0);
	CHECK(strstr(o.buf, "/dev/pts/") && strstr(o.buf, "24 80") && strstr(o.buf, "interactive"));
}

/* A PTY command sees the size the host sets while it runs. */
static void test_pty_resize(void)
{
	struct agent_exec x = { .cmd = "sleep 1; stty size", .pty = true };
	struct json_object *req = agent_exec_request(&x), *reply = NULL;
	struct agent_error err;
	struct agent_exit res;
	struct out o;
	int fd = agent_connect(vsock, AGENT_PORT);
	const char *resize = "{\"op\":\"resize\",\"rows\":40,\"cols\":100}";

	memset(&o, 0, sizeof(o));
	CHECK(fd >= 0 && agent_request(fd, req, &reply, &err) == 0);
	CHECK(frame_send(fd, FRAME_JSON, resize, (uint32_t)strlen(resize)) == 0);
	x.on_output = collect;
	x.opaque = &o;
	CHECK(agent_exec_follow(fd, &x, &res) == 0 && res.exit_code == 0);
	CHECK(strstr(o.buf, "40 100") != NULL);
	json_object_put(req);
	json_object_put(reply);
	close(fd);
}

static void sha256_file(const char *path, char out[65])
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	out[0] = '\0';
	if (p && fscanf(p, "%64s", out) != 1)
		out[0] = '\0';
	if (p)
		pclose(p);
}

static void test_big_file(void)
{
	char src[256], back[256], a[65], b[65];
	struct agent_error err;
	struct out o;
	long long n = 0;
	uint8_t *buf = malloc(1 << 20);
	int fd;

	snprintf(src, sizeof(src), "%s/big.src", dir);
	snprintf(back, sizeof(back), "%s/big.back", dir);
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (unsigned int i = 0; i < BIG >> 20; i++) {
		getrandom(buf, 1 << 20, 0);
		CHECK(write(fd, buf, 1 << 20) == 1 << 20);
	}
	close(fd);
	free(buf);
	sha256_file(src, a);

	fd = open(src, O_RDONLY);
	CHECK(agent_file_write(vsock, "/home/user/big.bin", fd, 0600, &n, &err) == 0 && n == BIG);
	close(fd);
	CHECK(sh("stat -c '%s %U %a' /home/user/big.bin; sha256sum < /home/user/big.bin", &o) == 0);
	CHECK(strstr(o.buf, "104857600 user 600") && strstr(o.buf, a));

	fd = open(back, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(agent_file_read(vsock, "/home/user/big.bin", fd, &n, &err) == 0 && n == BIG);
	close(fd);
	sha256_file(back, b);
	CHECK(a[0] && strcmp(a, b) == 0);
	unlink(src);
	unlink(back);
	CHECK(sh("rm /home/user/big.bin", &o) == 0);
}

static struct json_object *file_req(const char *op, const char *k1, const char *v1,
				    const char *k2, const char *v2)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "op", json_object_new_string(op));
	json_object_object_add(r, k1, json_object_new_string(v1));
	if (k2)
		json_object_object_add(r, k2, json_object_new_string(v2));
	return r;
}

/* Calls op; returns 0 or -EREMOTEIO with err.code; *reply_out if wanted. */
static int fop(struct json_object *req, struct agent_error *err, struct json_object **out)
{
	struct json_object *reply = NULL;
	int ret = agent_call(vsock, req, &reply, err);

	json_object_put(req);
	if (out)
		*out = reply;
	else
		json_object_put(reply);
	return ret;
}

static void test_tree(void)
{
	struct agent_error err;
	struct json_object *reply, *v;
	struct out o;

	CHECK(fop(file_req("mkdir", "path", "a/b/c", NULL, NULL), &err, NULL) == 0);
	CHECK(fop(file_req("mkdir", "path", "/home/user/a/b/c", NULL, NULL), &err, NULL) == 0);
	CHECK(sh("echo x > a/b/c/f.txt", &o) == 0);
	CHECK(fop(file_req("list", "path", "/home/user/a", NULL, NULL), &err, &reply) == 0);
	CHECK(json_object_object_get_ex(reply, "entries", &v) && json_object_array_length(v) == 1);
	json_object_put(reply);
	struct json_object *deep = file_req("list", "path", "a", NULL, NULL);
	json_object_object_add(deep, "depth", json_object_new_int(5));
	CHECK(fop(deep, &err, &reply) == 0);
	CHECK(strstr(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_NOSLASHESCAPE),
		     "b/c/f.txt") != NULL);
	json_object_put(reply);
	CHECK(fop(file_req("stat", "path", "a/b/c/f.txt", NULL, NULL), &err, &reply) == 0);
	CHECK(json_object_object_get_ex(reply, "size", &v) && json_object_get_int(v) == 2);
	CHECK(json_object_object_get_ex(reply, "type", &v) && !strcmp(json_object_get_string(v), "file"));
	json_object_put(reply);
	CHECK(fop(file_req("rename", "from", "a/b", "to", "a/moved"), &err, NULL) == 0);
	CHECK(fop(file_req("exists", "path", "a/moved/c/f.txt", NULL, NULL), &err, &reply) == 0);
	CHECK(json_object_object_get_ex(reply, "exists", &v) && json_object_get_boolean(v));
	json_object_put(reply);
	/* Not empty: a plain remove fails; a recursive one works. */
	CHECK(fop(file_req("remove", "path", "a", NULL, NULL), &err, NULL) == -EREMOTEIO &&
	      strcmp(err.code, "ENOTEMPTY") == 0);
	struct json_object *rr = file_req("remove", "path", "a", NULL, NULL);
	json_object_object_add(rr, "recursive", json_object_new_boolean(1));
	CHECK(fop(rr, &err, NULL) == 0);
	CHECK(fop(file_req("exists", "path", "a", NULL, NULL), &err, &reply) == 0);
	CHECK(json_object_object_get_ex(reply, "exists", &v) && !json_object_get_boolean(v));
	json_object_put(reply);

	/* Errors: missing file, permission denied, bad path, unknown op. */
	CHECK(fop(file_req("read", "path", "/no/such/file", NULL, NULL), &err, NULL) == -EREMOTEIO &&
	      strcmp(err.code, "ENOENT") == 0 && strstr(err.message, "/no/such/file"));
	CHECK(fop(file_req("write", "path", "/etc/shadow", NULL, NULL), &err, NULL) == -EREMOTEIO &&
	      strcmp(err.code, "EACCES") == 0);
	CHECK(fop(file_req("stat", "path", "", NULL, NULL), &err, NULL) == -EREMOTEIO &&
	      strcmp(err.code, "EINVAL") == 0);
	CHECK(fop(file_req("frobnicate", "path", "/", NULL, NULL), &err, NULL) == -EREMOTEIO &&
	      strcmp(err.code, "EOPNOTSUPP") == 0);
}

/* Sends raw bytes as a first message; returns the agent's error code, or "". */
static void raw_request(uint8_t type, const char *payload, char *code, size_t len)
{
	int fd = agent_connect(vsock, AGENT_PORT);
	uint8_t *buf = NULL, t;
	uint32_t cap = 0, n;
	struct json_object *o, *v;

	code[0] = '\0';
	if (fd < 0 || frame_send(fd, type, payload, (uint32_t)strlen(payload)) < 0 ||
	    frame_recv(fd, &t, &buf, &cap, &n) < 0 || t != FRAME_JSON) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return;
	}
	o = json_tokener_parse((char *)buf);
	if (o && json_object_object_get_ex(o, "code", &v))
		snprintf(code, len, "%s", json_object_get_string(v));
	json_object_put(o);
	free(buf);
	close(fd);
}

/* Malformed requests get an answer or a closed connection, never a dead agent. */
static void test_bad_requests(void)
{
	char code[32];
	int fd;

	raw_request(FRAME_DATA, "not a request", code, sizeof(code));
	CHECK(strcmp(code, "EPROTO") == 0);
	raw_request(FRAME_JSON, "{\"op\":", code, sizeof(code));
	CHECK(strcmp(code, "EPROTO") == 0);
	raw_request(FRAME_JSON, "[1,2]", code, sizeof(code));
	CHECK(strcmp(code, "EPROTO") == 0);
	raw_request(FRAME_JSON, "{\"op\":\"exec\",\"argv\":\"ls\"}", code, sizeof(code));
	CHECK(strcmp(code, "EINVAL") == 0);
	raw_request(FRAME_JSON, "{\"op\":\"exec\",\"argv\":[1,2]}", code, sizeof(code));
	CHECK(strcmp(code, "EINVAL") == 0);
	raw_request(FRAME_JSON, "{\"op\":\"kill\",\"pid\":1}", code, sizeof(code));
	CHECK(strcmp(code, "ESRCH") == 0);       /* only the agent's own commands */
	/* A frame header promising 2 GiB: the agent hangs up. */
	fd = agent_connect(vsock, AGENT_PORT);
	CHECK(fd >= 0 && write(fd, "\xff\xff\xff\x7fJ", 5) == 5);
	char c;
	CHECK(read(fd, &c, 1) == 0);
	close(fd);
	/* A client that connects and leaves. */
	fd = agent_connect(vsock, AGENT_PORT);
	close(fd);
	/* Still serving. */
	struct out o;
	CHECK(sh("echo alive", &o) == 0 && strcmp(o.buf, "alive\n") == 0);
}

/* Follows the running command pid on a connection of its own: the fd, or -1 if it has ended. */
static int follow_pid(int pid)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	int fd = agent_connect(vsock, AGENT_PORT);

	json_object_object_add(req, "op", json_object_new_string("attach"));
	json_object_object_add(req, "pid", json_object_new_int(pid));
	if (fd >= 0 && agent_request(fd, req, &reply, NULL) < 0) {
		close(fd);
		fd = -1;
	}
	json_object_put(req);
	json_object_put(reply);
	return fd;
}

/* Whether a ps reply lists pid running cmd. */
static bool ps_has(struct json_object *reply, int pid, const char *cmd)
{
	struct json_object *list, *v;

	if (!json_object_object_get_ex(reply, "processes", &list))
		return false;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i);

		if (json_object_object_get_ex(e, "pid", &v) && json_object_get_int(v) == pid &&
		    json_object_object_get_ex(e, "cmd", &v) && !strcmp(json_object_get_string(v), cmd))
			return true;
	}
	return false;
}

/* Background commands: stdin given at the start, kept open and written to later, killed. */
static void test_background(void)
{
	struct agent_exec x = { .cmd = "tr a-z A-Z > /tmp/bg.txt", .stdin_data = "shout\n",
				.stdin_len = 6 };
	struct json_object *reply;
	struct agent_error err;
	struct agent_exit res;
	struct out o;
	int pid, fd;

	/* Stdin from the start, then closed: tr ends by itself. */
	CHECK(agent_exec_start(vsock, &x, false, &pid, &err) == 0 && pid > 1);
	fd = follow_pid(pid);
	if (fd >= 0) {
		CHECK(agent_exec_follow(fd, NULL, &res) == 0 && res.exit_code == 0);
		close(fd);
	}
	CHECK(sh("cat /tmp/bg.txt", &o) == 0 && strcmp(o.buf, "SHOUT\n") == 0);

	/* keep_stdin: writes in a row arrive in order; the last one closes stdin. */
	x = (struct agent_exec){ .cmd = "cat" };
	CHECK(agent_exec_start(vsock, &x, true, &pid, &err) == 0 && pid > 1);
	fd = follow_pid(pid);
	CHECK(fd >= 0);
	for (int i = 0; i < 10; i++) {
		char line[8];

		snprintf(line, sizeof(line), "%d\n", i);
		CHECK(agent_stdin_write(vsock, pid, line, strlen(line), i == 9, 5000, &err) == 0);
	}
	memset(&o, 0, sizeof(o));
	x.on_output = collect;
	x.opaque = &o;
	CHECK(fd >= 0 && agent_exec_follow(fd, &x, &res) == 0 && res.exit_code == 0);
	CHECK(strcmp(o.buf, "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n") == 0);
	if (fd >= 0)
		close(fd);

	/* ps lists it (the reply without "ok"), kill ends it, then it is gone. */
	x = (struct agent_exec){ .cmd = "sleep 1000" };
	CHECK(agent_exec_start(vsock, &x, false, &pid, &err) == 0 && pid > 1);
	CHECK(agent_ps(vsock, &reply, &err, 10000) == 0 && ps_has(reply, pid, "sleep 1000") &&
	      !json_object_object_get_ex(reply, "ok", NULL));
	json_object_put(reply);
	fd = follow_pid(pid);
	CHECK(agent_kill(vsock, pid, 0, &err, 10000) == -EREMOTEIO && strcmp(err.code, "EINVAL") == 0);
	CHECK(agent_kill(vsock, pid, 9, &err, 10000) == 0);
	CHECK(fd >= 0 && agent_exec_follow(fd, NULL, &res) == 0 && res.signal == 9);
	if (fd >= 0)
		close(fd);
	CHECK(agent_kill(vsock, pid, 9, &err, 10000) == -EREMOTEIO && strcmp(err.code, "ESRCH") == 0);
	CHECK(agent_stdin_write(vsock, pid, "x", 1, true, 5000, &err) == -EREMOTEIO &&
	      strcmp(err.code, "ESRCH") == 0);
	CHECK(agent_ps(vsock, &reply, &err, 10000) == 0 && !ps_has(reply, pid, "sleep 1000"));
	json_object_put(reply);

	/* Errors are answers here too. */
	x = (struct agent_exec){ .cmd = "true", .user = "nobody-here" };
	CHECK(agent_exec_start(vsock, &x, false, &pid, &err) == -EREMOTEIO && strcmp(err.code, "ESRCH") == 0);
	const char *nope[] = { "no-such-command", NULL };
	x = (struct agent_exec){ .argv = nope };
	CHECK(agent_exec_start(vsock, &x, true, &pid, &err) == -EREMOTEIO && strcmp(err.code, "ENOENT") == 0);
}

/* The number of entries of a list reply. */
static size_t entries(struct json_object *reply)
{
	struct json_object *v;

	return json_object_object_get_ex(reply, "entries", &v) ? json_object_array_length(v) : 0;
}

/* Checks that ret is the agent's error code. */
static bool is_err(int ret, const struct agent_error *err, const char *code)
{
	return ret == -EREMOTEIO && strcmp(err->code, code) == 0;
}

/* stat, list, mkdir, rename and remove through the typed calls, with their errors. */
static void test_tree_calls(void)
{
	struct json_object *reply, *v;
	struct agent_error err;
	struct out o;

	CHECK(agent_mkdir(vsock, "/tmp/typed/a/b", true, &err, 10000) == 0);
	CHECK(agent_mkdir(vsock, "/tmp/typed/a/b", true, &err, 10000) == 0);   /* there already: fine */
	CHECK(is_err(agent_mkdir(vsock, "/tmp/typed/a/b", false, &err, 10000), &err, "EEXIST"));
	CHECK(is_err(agent_mkdir(vsock, "/tmp/typed/no/c", false, &err, 10000), &err, "ENOENT"));
	CHECK(is_err(agent_mkdir(vsock, "/etc/typed", false, &err, 10000), &err, "EACCES"));
	CHECK(sh("echo hi > /tmp/typed/a/b/f.txt", &o) == 0);

	CHECK(agent_stat(vsock, "/tmp/typed/a/b/f.txt", &reply, &err, 10000) == 0 && reply &&
	      !json_object_object_get_ex(reply, "ok", NULL));
	CHECK(json_object_object_get_ex(reply, "size", &v) && json_object_get_int(v) == 3);
	CHECK(json_object_object_get_ex(reply, "type", &v) && !strcmp(json_object_get_string(v), "file"));
	json_object_put(reply);
	CHECK(is_err(agent_stat(vsock, "/tmp/typed/none", &reply, &err, 10000), &err, "ENOENT") &&
	      !reply && strstr(err.message, "/tmp/typed/none"));

	CHECK(agent_list(vsock, "/tmp/typed", 1, &reply, &err, 10000) == 0 && entries(reply) == 1);
	json_object_put(reply);
	CHECK(agent_list(vsock, "/tmp/typed", 3, &reply, &err, 10000) == 0 && entries(reply) == 3);
	CHECK(strstr(json_object_to_json_string_ext(reply, JSON_C_TO_STRING_NOSLASHESCAPE),
		     "\"a/b/f.txt\"") != NULL);
	json_object_put(reply);
	CHECK(is_err(agent_list(vsock, "/tmp/typed/a/b/f.txt", 1, &reply, &err, 10000), &err, "ENOTDIR"));
	CHECK(is_err(agent_list(vsock, "/tmp/typed/none", 1, &reply, &err, 10000), &err, "ENOENT"));

	CHECK(agent_rename(vsock, "/tmp/typed/a", "/tmp/typed/c", &err, 10000) == 0);
	CHECK(is_err(agent_rename(vsock, "/tmp/typed/a", "/tmp/typed/d", &err, 10000), &err, "ENOENT"));
	CHECK(agent_stat(vsock, "/tmp/typed/c/b/f.txt", &reply, &err, 10000) == 0);
	json_object_put(reply);

	CHECK(is_err(agent_remove(vsock, "/tmp/typed/c", false, &err, 10000), &err, "ENOTEMPTY"));
	CHECK(agent_remove(vsock, "/tmp/typed/c", true, &err, 10000) == 0);
	CHECK(is_err(agent_remove(vsock, "/tmp/typed/c", false, &err, 10000), &err, "ENOENT"));
	CHECK(is_err(agent_stat(vsock, "/tmp/typed/c", &reply, &err, 10000), &err, "ENOENT"));
	CHECK(agent_remove(vsock, "/tmp/typed", false, &err, 10000) == 0);
}

/* Sizes out of range are errors; once the desktop is up, the screen takes the size asked. */
static void test_display(void)
{
	struct agent_error err;
	struct out o;

	CHECK(is_err(agent_set_display(vsock, 10, 10, &err, 30000), &err, "EINVAL"));
	CHECK(is_err(agent_set_display(vsock, 1024, 100000, &err, 30000), &err, "EINVAL"));
	if (!vm_expect(vm_a, "cubicle-agent: desktop ready", 240)) {
		CHECK(!"desktop ready");
		return;
	}
	CHECK(agent_set_display(vsock, 1024, 768, &err, 30000) == 0);
	CHECK(sh("xrandr --query | head -1", &o) == 0 && strstr(o.buf, "current 1024 x 768"));
}

/* Boots a sandbox with its own overlay on the shared base. */
static bool boot(struct vm *vm, const char *overlay, const char *sock)
{
	char *argv[] = { vmm, "--kernel", kernel, "--disk", image, "--overlay", (char *)overlay,
			 "--vsock", (char *)sock, "--vcpus", "2", "--memory", "1024", NULL };

	if (vm_start(vm, argv) < 0 || !vm_expect(vm, "cubicle-agent: ready", 240))
		return false;
	return agent_wait_ready(sock, 30000) == 0;
}

static void power_off(struct vm *vm)
{
	struct json_object *req = json_object_new_object(), *reply;

	json_object_object_add(req, "op", json_object_new_string("poweroff"));
	CHECK(agent_call(vsock, req, &reply, NULL) == 0);
	json_object_put(req);
	json_object_put(reply);
	CHECK(vm_wait(vm, 60) == 0);
}

static void test_second_sandbox(void)
{
	char overlay_b[256], sock_b[128], *save = strdup(vsock);
	struct vm b;
	struct out o;

	snprintf(overlay_b, sizeof(overlay_b), "%s/b.qcow2", dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", dir);
	CHECK(boot(&b, overlay_b, sock_b));
	snprintf(vsock, sizeof(vsock), "%s", sock_b);
	/* b does not see what a wrote, and writes its own. */
	CHECK(sh("test ! -e /home/user/mark-a && echo b > /home/user/mark-b", &o) == 0);
	power_off(&b);
	vm_free(&b);
	snprintf(vsock, sizeof(vsock), "%s", save);
	free(save);
	CHECK(sh("cat /home/user/mark-a; test ! -e /home/user/mark-b", &o) == 0 &&
	      strcmp(o.buf, "a\n") == 0);
}

int main(int argc, char **argv)
{
	char overlay_a[256], before[65], after[65];
	struct vm a;
	struct out o;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CUBICLE_VMM GUEST_DIR\n", argv[0]);
		return 2;
	}
	vmm = argv[1];
	kernel = vm_guest_path(argv[2], "kernel.path");
	image = vm_guest_path(argv[2], "minimal.path");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(vsock, sizeof(vsock), "%s/a.sock", dir);
	snprintf(overlay_a, sizeof(overlay_a), "%s/a.qcow2", dir);
	sha256_file(image, before);
	vm_a = &a;

	if (!boot(&a, overlay_a, vsock)) {
		CHECK(!"sandbox a ready");
		fprintf(stderr, "cubicle-vmm said:\n%s", a.err_buf);
		vm_free(&a);
		return check_done();
	}
	RUN(test_commands);
	RUN(test_streaming);
	RUN(test_timeout_and_kill);
	RUN(test_many_at_once);
	RUN(test_quick_commands);
	RUN(test_stdin_echo);
	RUN(test_pty);
	RUN(test_pty_resize);
	RUN(test_big_file);
	RUN(test_tree);
	RUN(test_bad_requests);
	RUN(test_background);
	RUN(test_tree_calls);
	RUN(test_display);
	CHECK(sh("echo a > /home/user/mark-a", &o) == 0);
	RUN(test_second_sandbox);

	/* What the template asks to start runs at boot; the overlay keeps writes. */
	struct agent_exec rx = { .cmd = "mkdir -p /etc/cubicle/start.d && "
				 "printf '#!/bin/sh\\necho started > /run/by-start-d\\n' > /etc/cubicle/start.d/10-mark && "
				 "chmod +x /etc/cubicle/start.d/10-mark && sync", .user = "root" };
	struct agent_exit rres;
	struct agent_error rerr;
	CHECK(agent_exec_run(vsock, &rx, &rres, &rerr) == 0 && rres.exit_code == 0);
	power_off(&a);
	vm_free(&a);
	if (!boot(&a, overlay_a, vsock)) {
		CHECK(!"sandbox a boots again on its overlay");
	} else {
		CHECK(sh("cat /home/user/mark-a", &o) == 0 && strcmp(o.buf, "a\n") == 0);
		for (int i = 0; i < 50 && sh("cat /run/by-start-d", &o) != 0; i++)
			usleep(100000);
		CHECK(strcmp(o.buf, "started\n") == 0);
	}
	power_off(&a);
	if (check_failed)
		fprintf(stderr, "cubicle-vmm said:\n%s", a.err_buf);
	vm_free(&a);

	sha256_file(image, after);
	CHECK(before[0] && strcmp(before, after) == 0);    /* the base never changes */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
	free(kernel);
	free(image);
	return check_done();
}
