/*
 * The smallest test harness that says what failed: CHECK() counts and
 * reports, RUN() names a case, check_done() prints "N passed, N failed".
 */
#ifndef CUBICLE_CHECK_H
#define CUBICLE_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (cond) {                                                      \
			check_passed++;                                          \
		} else {                                                         \
			check_failed++;                                          \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__,   \
				__LINE__, #cond);                                \
		}                                                                \
	} while (0)

#define RUN(fn)                                                                  \
	do {                                                                     \
		int check_before_ = check_failed;                                       \
		fn();                                                            \
		printf("%s %s\n", check_failed == check_before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
