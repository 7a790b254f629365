/*
 * The smallest test harness that says what failed: CHECK() counts and
 * reports, RUN() names a case, check_done() prints "N passed, N failed".
 */
#ifndef CUBICLE_CHECK_H
#define CUBICLE_CHECK_H

#include <stdio.h>
#include <time.h>

/*
 * A test of one file keeps its counts to itself. A test whose checks sit in
 * several files defines CHECK_MAIN in the one with main() and CHECK_SHARED
 * in the others, so that every check counts in check_done().
 */
#if defined(CHECK_SHARED)
extern int check_passed, check_failed;
#elif defined(CHECK_MAIN)
int check_passed, check_failed;
#else
static int check_passed, check_failed;
#endif

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

/* Runs a check function and says how it went and how long it took (for budgets, never asserted). */
#define RUN(fn)                                                                  \
	do {                                                                     \
		int check_before_ = check_failed;                                \
		struct timespec check_t0_, check_t1_;                            \
		clock_gettime(CLOCK_MONOTONIC, &check_t0_);                      \
		fn();                                                            \
		clock_gettime(CLOCK_MONOTONIC, &check_t1_);                      \
		printf("%s %s (%.1f s)\n", check_failed == check_before_ ? "ok  " : "FAIL", #fn, \
		       (double)(check_t1_.tv_sec - check_t0_.tv_sec) +           \
		       (double)(check_t1_.tv_nsec - check_t0_.tv_nsec) / 1e9);   \
		fflush(stdout);                                                  \
	} while (0)

static inline int check_done(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif
