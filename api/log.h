/*
 * cubicled's log: one line per event on stderr, logfmt (`time=...
 * level=info msg="..." key=value ...`), so that journald and grep both read
 * it. Values with spaces or quotes are quoted by the caller through
 * api_log_str.
 */
#ifndef CUBICLE_API_LOG_H
#define CUBICLE_API_LOG_H

#include <stddef.h>

/* Writes one line: time, level, then fmt's key=value pairs. Thread-safe. */
void api_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* s as a logfmt value ("..." with \" and \\ escaped, control characters as ?) in buf. */
const char *api_log_str(char *buf, size_t len, const char *s);

#endif
