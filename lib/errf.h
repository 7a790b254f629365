/*
 * The one-line reason a failing call leaves its caller: every parser and
 * set-up step in Cubicle takes (char *err, size_t errlen) and fills it.
 */
#ifndef CUBICLE_ERRF_H
#define CUBICLE_ERRF_H

#include <stddef.h>

/*
 * Formats the reason into err (errlen bytes; err may be NULL when errlen
 * is 0) and returns -EINVAL, so that a parser can `return errf(...)`.
 */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
