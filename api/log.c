#include "log.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "clock.h"

void api_log(const char *level, const char *fmt, ...)
{
	char line[2048], stamp[32];
	int64_t now = clk_wall_ms();
	time_t secs = (time_t)(now / 1000);
	struct tm tm;
	va_list ap;
	int n;

	gmtime_r(&secs, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "time=%s.%03dZ level=%s ", stamp, (int)(now % 1000),
		     level);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so that lines from threads never interleave. */
	fprintf(stderr, "%s\n", line);
}

const char *api_log_str(char *buf, size_t len, const char *s)
{
	size_t n = 0;

	if (len < 3)
		return "\"\"";
	buf[n++] = '"';
	for (; s && *s && n + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[n++] = '\\';
		buf[n++] = (unsigned char)*s < 0x20 ? '?' : *s;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return buf;
}
