/*
 * util.h -- small helpers every module shares: bounded reads and writes,
 * checked number parsing, hex, and atomic file replacement.
 */
#ifndef TLSAD_UTIL_H
#define TLSAD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read a whole regular file into a NUL-terminated buffer of at most max bytes
 * (TLSAD_ETOOBIG past that).  On success *buf is the caller's, to free().
 */
int	util_read_file(const char *path, size_t max, char **buf, size_t *len);

/* Write all of buf, retrying on EINTR and short writes. */
int	util_write_all(int fd, const void *buf, size_t len);

/*
 * Replace path atomically with data: temp file in the same directory with
 * the given mode (and group, unless gid is (gid_t)-1), fsync, rename, fsync
 * the directory.  On failure the old file is untouched and the temp removed.
 */
int	util_atomic_write(const char *path, const void *data, size_t len,
	    mode_t mode, gid_t gid);

/* Parse a decimal unsigned number in [min, max]; the whole string must be used. */
int	util_parse_uint(const char *s, unsigned long long min,
	    unsigned long long max, unsigned long long *out);

/*
 * Lower-case hex of len bytes into out, which has room for 2*len+1 bytes.
 */
void	util_hex(const uint8_t *in, size_t len, char *out);

/* Parse hex (either case, no separators) into out; *outlen gets the count. */
int	util_unhex(const char *in, uint8_t *out, size_t outsize, size_t *outlen);

/* strdup that returns NULL only for NULL input or out of memory. */
char	*util_strdup(const char *s);

/* Monotonic and wall clock in milliseconds. */
int64_t	util_now_mono_ms(void);
int64_t	util_now_wall_ms(void);

#endif /* TLSAD_UTIL_H */
