#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

void api_log(const char *level, const char *fmt, ...)
{
	char line[2048], stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "time=%s.%03ldZ level=%s ", stamp, ts.tv_nsec / 1000000,
		     level);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so that lines from threads never interleave. */
	fprintf(stderr, "%s\n", line);
}

void api_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
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

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t api_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t api_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
