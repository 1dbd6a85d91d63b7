/*
 * log.h -- the log API, after OpenSMTPD's.
 *
 * Messages go to stderr.  Under systemd (JOURNAL_STREAM set, or log_init()
 * told so) each line starts with a "<N>" syslog priority prefix that journald
 * understands; otherwise with the program name.  Pure modules never log: only
 * I/O modules and the programs do, once, where a failure happens.
 */
#ifndef TLSAD_LOG_H
#define TLSAD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

/* Set the program name and the highest level printed (default INFO). */
void	log_init(const char *progname, int level);
void	log_setlevel(int level);
int	log_getlevel(void);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_vmsg(int level, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/* Print and exit(1).  Only before the event loop runs. */
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* TLSAD_LOG_H */
