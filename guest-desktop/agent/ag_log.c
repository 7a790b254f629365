#include "ag_log.h"

#include <stdarg.h>
#include <stdio.h>

/* stdout is the console (PID 1's); the lock keeps a line whole. */
void ag_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stdout);
	fputs("cubicle-agent: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	funlockfile(stdout);
	va_end(ap);
}
