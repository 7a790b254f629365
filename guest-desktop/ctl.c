/*
 * cubicle-ctl: talk to a sandbox's agent from a shell, through the vsock
 * socket cubicle-vmm was given. A thin command line over the client library.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "client.h"

static const char usage[] =
	"usage: cubicle-ctl --vsock PATH COMMAND [ARGS]\n"
	"\n"
	"Talks to cubicle-agent in a running sandbox (cubicle-vmm --vsock PATH).\n"
	"\n"
	"  wait [SECONDS]        wait until the agent answers (default 60 s)\n"
	"  exec [--root] CMD     run a shell command as `user` (or root), stream its\n"
	"                        output; exits with its status\n"
	"  shell [--root]        an interactive login shell on a PTY; Ctrl-D leaves\n"
	"  put LOCAL REMOTE      copy a file into the sandbox\n"
	"  get REMOTE LOCAL      copy a file out of the sandbox\n"
	"  poweroff              power the sandbox off\n";

static void print_output(void *opaque, int stream, const uint8_t *buf, uint32_t len)
{
	(void)opaque;
	(void)!write(stream == 1 ? STDOUT_FILENO : STDERR_FILENO, buf, len);
}

static int fail(int ret, const struct agent_error *err, const char *what)
{
	if (ret == -EREMOTEIO)
		fprintf(stderr, "cubicle-ctl: %s: %s (%s)\n", what, err->message, err->code);
	else
		fprintf(stderr, "cubicle-ctl: %s: %s\n", what, strerror(-ret));
	return 1;
}

static int cmd_exec(const char *sock, const char *cmd, bool root)
{
	struct agent_exec x = { .cmd = cmd, .user = root ? "root" : NULL, .on_output = print_output };
	struct agent_exit res;
	struct agent_error err;
	int ret = agent_exec_run(sock, &x, &res, &err);

	if (ret < 0)
		return fail(ret, &err, "exec");
	return res.signal ? 128 + res.signal : res.exit_code;
}

/* Sends the terminal's size to the command. */
static void send_size(int fd)
{
	struct winsize ws;

	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		agent_send_resize(fd, ws.ws_row, ws.ws_col);
}

static volatile sig_atomic_t resized;
static void on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

static int cmd_shell(const char *sock, bool root)
{
	struct agent_exec x = { .cmd = "exec bash -l", .pty = true, .user = root ? "root" : NULL };
	struct json_object *req, *reply = NULL;
	struct agent_error err;
	struct termios saved, raw;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	uint8_t *buf = NULL, type;
	uint32_t cap = 0, len;
	int fd, ret, status = 0;

	x.stdin_data = "";     /* ask for stdin */
	req = agent_exec_request(&x);
	fd = agent_connect(sock, AGENT_PORT);
	if (fd < 0) {
		json_object_put(req);
		return fail(fd, &err, "shell");
	}
	ret = agent_request(fd, req, &reply, &err);
	json_object_put(req);
	json_object_put(reply);
	if (ret < 0)
		return fail(ret, &err, "shell");
	if (tty) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		signal(SIGWINCH, on_winch);
		send_size(fd);
	}
	for (;;) {
		struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { fd, POLLIN, 0 } };

		if (resized) {
			resized = 0;
			send_size(fd);
		}
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char in[4096];
			ssize_t n = read(STDIN_FILENO, in, sizeof(in));

			if (n <= 0) {
				agent_send_stdin(fd, NULL, 0);
				p[0].fd = -1;
			} else {
				agent_send_stdin(fd, in, (size_t)n);
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			if (frame_recv(fd, &type, &buf, &cap, &len) < 0)
				break;
			if (type == FRAME_STDOUT || type == FRAME_STDERR)
				(void)!write(STDOUT_FILENO, buf, len);
			else if (type == FRAME_JSON) {
				struct json_object *o = json_tokener_parse((char *)buf), *v;

				status = o && json_object_object_get_ex(o, "exit", &v) && v ? json_object_get_int(v) : 1;
				json_object_put(o);
				break;
			}
		}
	}
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	free(buf);
	close(fd);
	return status;
}

static int cmd_copy(const char *sock, const char *from, const char *to, bool put)
{
	struct agent_error err;
	long long n = 0;
	int fd = put ? open(from, O_RDONLY | O_CLOEXEC)
		     : open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ret;

	if (fd < 0) {
		fprintf(stderr, "cubicle-ctl: %s: %s\n", put ? from : to, strerror(errno));
		return 1;
	}
	ret = put ? agent_file_write(sock, to, fd, 0644, &n, &err)
		  : agent_file_read(sock, from, fd, &n, &err);
	close(fd);
	if (ret < 0)
		return fail(ret, &err, put ? "put" : "get");
	fprintf(stderr, "cubicle-ctl: %lld bytes\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	int i = 1;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 2 && !strcmp(argv[1], "--vsock")) {
		sock = argv[2];
		i = 3;
	}
	if (!sock || i >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	const char *cmd = argv[i++];
	bool root = i < argc && !strcmp(argv[i], "--root");
	if (root)
		i++;

	if (!strcmp(cmd, "wait")) {
		int secs = i < argc ? atoi(argv[i]) : 60;
		int ret = agent_wait_ready(sock, (secs > 0 ? secs : 60) * 1000);

		if (ret < 0)
			return fail(ret, NULL, "the agent did not answer");
		return 0;
	}
	if (!strcmp(cmd, "exec") && i + 1 == argc)
		return cmd_exec(sock, argv[i], root);
	if (!strcmp(cmd, "shell") && i == argc)
		return cmd_shell(sock, root);
	if ((!strcmp(cmd, "put") || !strcmp(cmd, "get")) && i + 2 == argc)
		return cmd_copy(sock, argv[i], argv[i + 1], !strcmp(cmd, "put"));
	if (!strcmp(cmd, "poweroff") && i == argc) {
		struct agent_error err;
		int ret = agent_poweroff(sock, &err, 0);

		return ret < 0 ? fail(ret, &err, "poweroff") : 0;
	}
	fprintf(stderr, "cubicle-ctl: unknown or incomplete command '%s' (see --help)\n", cmd);
	return 2;
}
