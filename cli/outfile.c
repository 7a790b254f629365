/* The whole-or-nothing files of outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The temp file being written, which a signal that ends cubicle removes first. */
static char *volatile temp_path;

static void on_signal(int sig)
{
	char *p = temp_path;

	if (p)
		unlink(p);
	signal(sig, SIG_DFL);
	raise(sig);
}

void outfile_catch_signals(void)
{
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
}

/* Says "name: why" for errno; returns -errno (-EIO when errno is not set). */
static int say_errno(const char *name)
{
	int err = errno ? errno : EIO;

	cli_fail("%s: %s", name, strerror(err));
	return -err;
}

void outfile_abort(struct outfile *o)
{
	if (o->f && o->f != stdout)
		fclose(o->f);
	o->f = NULL;
	temp_path = NULL;
	if (o->tmp)
		unlink(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
}

int outfile_open(struct outfile *o, const char *path)
{
	mode_t mask = umask(0);
	int fd, ret;

	umask(mask);
	o->path = path;
	if (!strcmp(path, "-")) {
		o->f = stdout;
		return 0;
	}
	if (asprintf(&o->tmp, "%s.cubicle-XXXXXX", path) < 0) {
		o->tmp = NULL;
		cli_fail("out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = say_errno(path);
		free(o->tmp);
		o->tmp = NULL;
		return ret;
	}
	temp_path = o->tmp;
	if (fchmod(fd, 0666 & ~mask) < 0 || !(o->f = fdopen(fd, "wb"))) {
		ret = say_errno(path);
		close(fd);
		outfile_abort(o);
		return ret;
	}
	return 0;
}

int outfile_commit(struct outfile *o)
{
	int ret;

	if (o->f == stdout) {
		o->f = NULL;
		return fflush(stdout) == 0 ? 0 : say_errno("stdout");
	}
	ret = fclose(o->f);
	o->f = NULL;
	if (ret == 0 && rename(o->tmp, o->path) == 0) {
		temp_path = NULL;
		free(o->tmp);
		o->tmp = NULL;
		return 0;
	}
	ret = say_errno(o->path);
	outfile_abort(o);
	return ret;
}
