/*
 * skewtime.c -- LD_PRELOAD shim for tests: time() and gettimeofday() (what
 * ldns signs TSIG with) run TLSAD_TEST_SKEW
 * seconds (a signed integer) off the real clock, so that a TSIG signature
 * carries a wrong time and the server answers BADTIME.  Test code only.
 */
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

time_t	time(time_t *t);
int	gettimeofday(struct timeval *restrict tv, void *restrict tz);

static void
skewed(struct timespec *ts)
{
	const char	*s = getenv("TLSAD_TEST_SKEW");

	/* The raw syscall: the libc symbols are the ones we replace. */
	syscall(SYS_clock_gettime, CLOCK_REALTIME, ts);
	ts->tv_sec += s != NULL ? strtol(s, NULL, 10) : 0;
}

time_t
time(time_t *t)
{
	struct timespec	ts;

	skewed(&ts);
	if (t != NULL)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec	ts;

	(void)tz;
	skewed(&ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}
