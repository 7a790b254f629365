#include "vmtest.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"

char *vm_guest_path(const char *guest_dir, const char *name)
{
	char buf[4096], file[4096];

	snprintf(file, sizeof(file), "%s/%s", guest_dir, name);
	if (fdio_read_line(file, buf, sizeof(buf)) <= 0) {
		fprintf(stderr, "cannot read %s: the guest kernel and image are built by "
			"`make test` (or `make guest`)\n", file);
		exit(1);
	}
	return strdup(buf);
}

int vm_start(struct vm *vm, char *const argv[])
{
	int pin[2], pout[2], perr[2];

	memset(vm, 0, sizeof(*vm));
	vm->in = vm->out = vm->err = -1;        /* vm_free() closes only what was opened */
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC))
		return -errno;
	vm->pid = fork();
	if (vm->pid < 0)
		return -errno;
	if (vm->pid == 0) {
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execv(argv[0], argv);
		perror(argv[0]);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	vm->in = pin[1];
	vm->out = pout[0];
	vm->err = perr[0];
	vm->out_buf = calloc(1, 1);
	vm->err_buf = calloc(1, 1);
	return 0;
}

static void append(char **buf, size_t *len, const char *data, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Reads whatever is ready on the child's stdout and stderr, waiting up to ms. */
static bool pump(struct vm *vm, int ms)
{
	struct pollfd p[2] = { { vm->out, POLLIN, 0 }, { vm->err, POLLIN, 0 } };
	char buf[8192];
	bool any = false;

	if (poll(p, 2, ms) <= 0)
		return false;
	for (int i = 0; i < 2; i++) {
		if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP)))
			continue;
		ssize_t n = read(p[i].fd, buf, sizeof(buf));
		if (n > 0) {
			if (i == 0) {
				append(&vm->out_buf, &vm->out_len, buf, (size_t)n);
				fwrite(buf, 1, (size_t)n, stdout);   /* the console, for the log */
				fflush(stdout);
			} else {
				append(&vm->err_buf, &vm->err_len, buf, (size_t)n);
			}
			any = true;
		} else if (n == 0) {
			close(i == 0 ? vm->out : vm->err);
			if (i == 0)
				vm->out = -1;
			else
				vm->err = -1;
		}
	}
	return any;
}

const char *vm_expect(struct vm *vm, const char *needle, int timeout_s)
{
	int64_t end = clk_mono_ms() + timeout_s * 1000LL;

	for (;;) {
		char *hit = strstr(vm->out_buf + vm->mark, needle);

		if (hit) {
			vm->mark = (size_t)(hit - vm->out_buf) + strlen(needle);
			return hit;
		}
		if (clk_mono_ms() > end || (vm->out < 0 && vm->err < 0))
			return NULL;
		pump(vm, 200);
	}
}

void vm_send(struct vm *vm, const char *text)
{
	fdio_write_all(vm->in, text, strlen(text));
}

char *vm_run(struct vm *vm, const char *cmd, int timeout_s)
{
	static unsigned int seq;
	char begin[64], end[64], *line;
	const char *b, *e;
	size_t n;

	seq++;
	/* printf builds the markers, so the echoed command never matches them. */
	snprintf(begin, sizeof(begin), "<<%u:begin>>", seq);
	snprintf(end, sizeof(end), "<<%u:end>>", seq);
	n = strlen(cmd) + 128;
	line = malloc(n);
	snprintf(line, n, "printf '<<%%s:begin>>\\n' %u; %s; printf '<<%%s:end>>\\n' %u\n",
		 seq, cmd, seq);
	vm_send(vm, line);
	free(line);
	b = vm_expect(vm, begin, timeout_s);
	if (!b)
		return NULL;
	/* Offsets, not pointers: the buffer moves as output arrives. */
	size_t from = vm->mark;
	e = vm_expect(vm, end, timeout_s);
	if (!e)
		return NULL;
	b = vm->out_buf + from;
	while (*b == '\r' || *b == '\n')    /* the console ends lines with \r\n */
		b++;
	while (e > b && (e[-1] == '\n' || e[-1] == '\r'))
		e--;
	return strndup(b, (size_t)(e - b));
}

int vm_wait(struct vm *vm, int timeout_s)
{
	int64_t end = clk_mono_ms() + timeout_s * 1000LL;
	int status;

	for (;;) {
		pid_t r = waitpid(vm->pid, &status, WNOHANG);

		if (r == vm->pid) {
			vm->pid = 0;
			while (pump(vm, 0))
				;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (clk_mono_ms() > end)
			return -1;
		if (!pump(vm, 100))
			clk_pause_ms(10);       /* nothing to read: poll the exit status again */
	}
}

void vm_free(struct vm *vm)
{
	if (vm->pid > 0) {
		kill(vm->pid, SIGTERM);
		if (vm_wait(vm, 10) < 0) {
			kill(vm->pid, SIGKILL);
			waitpid(vm->pid, NULL, 0);
		}
	}
	if (vm->in >= 0)
		close(vm->in);
	if (vm->out >= 0)
		close(vm->out);
	if (vm->err >= 0)
		close(vm->err);
	free(vm->out_buf);
	free(vm->err_buf);
}
