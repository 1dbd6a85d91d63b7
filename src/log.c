/*
 * log.c -- log lines to stderr, with journald priority prefixes under systemd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/log.h"

static const char	*progname = "tlsad";
static int		 maxlevel = LOG_LEVEL_INFO;
static int		 journal;

void
log_init(const char *name, int level)
{
	progname = name;
	maxlevel = level;
	journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_setlevel(int level)
{
	maxlevel = level;
}

int
log_getlevel(void)
{
	return maxlevel;
}

void
log_vmsg(int level, const char *fmt, va_list ap)
{
	char	buf[2048];

	if (level > maxlevel)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (journal)
		fprintf(stderr, "<%d>%s\n", level, buf);
	else
		fprintf(stderr, "%s: %s\n", progname, buf);
	fflush(stderr);
}

#define LOGFN(fn, lvl)					\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list	ap;					\
							\
	va_start(ap, fmt);				\
	log_vmsg(lvl, fmt, ap);				\
	va_end(ap);					\
}

LOGFN(log_warnx, LOG_LEVEL_WARNING)
LOGFN(log_err, LOG_LEVEL_ERR)
LOGFN(log_notice, LOG_LEVEL_NOTICE)
LOGFN(log_info, LOG_LEVEL_INFO)
LOGFN(log_debug, LOG_LEVEL_DEBUG)

void
log_warn(const char *fmt, ...)
{
	char	buf[1536];
	int	saved = errno;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", buf, strerror(saved));
	errno = saved;
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
