#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "errf.h"
#include "fdio.h"

#define CTRL_RBRACKET 0x1d   /* Ctrl-]: leave an interactive console */

struct console {
	struct loop *loop;
	int ours, theirs;           /* our end of the socket pair, the engine's */
	int out;                    /* where the guest's output goes */
	bool forward_stdin;
	bool raw_tty;
	struct termios saved_tty;
	void (*stop)(void *opaque);
	void *opaque;
};

struct console *console_new(char *err, size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));
	int sv[2];

	if (!c) {
		errf(err, errlen, "out of memory");
		return NULL;
	}
	c->ours = c->theirs = c->out = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		errf(err, errlen, "cannot make the console: %s", strerror(errno));
		console_free(c);
		return NULL;
	}
	c->ours = sv[0];
	c->theirs = sv[1];
	fcntl(c->ours, F_SETFL, O_NONBLOCK);
	return c;
}

int console_open(struct console *c, const char *serial, char *err, size_t errlen)
{
	if (strcmp(serial, "stdout") == 0) {
		c->out = STDOUT_FILENO;
		c->forward_stdin = true;
		return 0;
	}
	c->out = open(serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c->out < 0) {
		errf(err, errlen, "--serial '%s': %s", serial, strerror(errno));
		return -errno;
	}
	return 0;
}

int console_engine_fd(const struct console *c)
{
	return c->theirs;
}

void console_handed(struct console *c)
{
	c->theirs = -1;
}

/* Guest console → the serial target. */
static void on_output(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct console *c = opaque;
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n > 0) {
		/* A full disk loses console text only. */
		(void)fdio_write_all(c->out, buf, (size_t)n);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	loop_del(loop, fd);
}

/* Standard input → the guest console; Ctrl-] on a terminal stops the guest. */
static void on_input(struct loop *loop, int fd, uint32_t events, void *opaque)
{
	struct console *c = opaque;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)events;
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		loop_del(loop, fd);    /* end of input: the guest runs on */
		return;
	}
	if (c->raw_tty && memchr(buf, CTRL_RBRACKET, (size_t)n)) {
		c->stop(c->opaque);
		return;
	}
	/* Never waits on the loop: what the guest's console has no room for is dropped. */
	(void)fdio_write_all_timed(c->ours, buf, (size_t)n, 0);
}

static void tty_raw(struct console *c)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &c->saved_tty) < 0)
		return;
	t = c->saved_tty;
	cfmakeraw(&t);
	t.c_oflag |= OPOST;      /* keep the monitor's own log lines readable */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
		c->raw_tty = true;
		fputs("cubicle-vmm: console attached; Ctrl-] stops the guest\r\n", stderr);
	}
}

int console_start(struct console *c, struct loop *loop, void (*stop)(void *opaque), void *opaque)
{
	int ret = loop_add(loop, c->ours, EPOLLIN, on_output, c);

	if (ret < 0)
		return ret;
	c->loop = loop;
	c->stop = stop;
	c->opaque = opaque;
	if (c->forward_stdin) {
		tty_raw(c);
		/* epoll refuses files and /dev/null (EPERM): then there is no input to carry. */
		if (loop_add(loop, STDIN_FILENO, EPOLLIN, on_input, c) < 0)
			c->forward_stdin = false;
	}
	return 0;
}

void console_drain(struct console *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(c->ours, buf, sizeof(buf))) > 0)
		(void)fdio_write_all(c->out, buf, (size_t)n);
}

void console_free(struct console *c)
{
	if (!c)
		return;
	if (c->raw_tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved_tty);
	if (c->loop) {
		loop_del(c->loop, c->ours);
		if (c->forward_stdin)
			loop_del(c->loop, STDIN_FILENO);
	}
	if (c->ours >= 0)
		close(c->ours);
	if (c->theirs >= 0)
		close(c->theirs);
	if (c->out > STDOUT_FILENO)
		close(c->out);
	free(c);
}
