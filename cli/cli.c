/* How cubicle says a failure: one line on stderr, whatever the text held. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

/* Writes "cubicle: LINE" with LINE's control characters made spaces, so a message is one line. */
static void say(char *line)
{
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	fprintf(stderr, "cubicle: %s\n", line);
}

void cli_fail(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(line);
}

int cli_usage_err(const struct cli *c, const char *fmt, ...)
{
	const char *name = c->cmd ? c->cmd : "";
	char what[900], line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s%s%s (see 'cubicle %s%s--help')", name, *name ? ": " : "",
		 what, name, *name ? " " : "");
	say(line);
	return -EINVAL;
}
