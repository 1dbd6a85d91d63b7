/*
 * util.c -- bounded file I/O, checked number parsing, hex, clocks.
 * Every reader here has a hard cap; every writer retries short writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "tlsad/error.h"
#include "tlsad/util.h"

/*
 * The buffer is sized from fstat, not from the cap: tlsactl reads
 * thousands of files, and most are a few KiB.  Files read here may hold a
 * private key: every buffer dropped is wiped first.
 */
int
util_read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	struct stat	 st;
	char		*buf = NULL, *grown;
	size_t		 len = 0, size;
	ssize_t		 n;
	int		 fd = -1, rc;

	*bufp = NULL;
	*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		rc = -errno;
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	size = (size_t)st.st_size + 1;
	buf = malloc(size);
	if (buf == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == size) {
			/* The file grew since fstat. */
			if (size > max) {
				rc = TLSAD_ETOOBIG;
				goto out;
			}
			size = size * 2 > max + 1 ? max + 1 :
			    size * 2;
			grown = malloc(size);
			if (grown == NULL) {
				rc = TLSAD_ENOMEM;
				goto out;
			}
			memcpy(grown, buf, len);
			OPENSSL_cleanse(buf, len);
			free(buf);
			buf = grown;
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		rc = TLSAD_ETOOBIG;
		goto out;
	}
	if (len == size) {
		/* Room for the NUL: grow by one. */
		grown = malloc(len + 1);
		if (grown == NULL) {
			rc = TLSAD_ENOMEM;
			goto out;
		}
		memcpy(grown, buf, len);
		OPENSSL_cleanse(buf, len);
		free(buf);
		buf = grown;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	buf = NULL;
	rc = 0;
out:
	if (buf != NULL) {
		/* The file may hold a key. */
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

int
util_write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
fsync_dir_of(const char *path)
{
	char		 dir[PATH_MAX];
	const char	*slash;
	int		 fd, rc = 0;

	slash = strrchr(path, '/');
	if (slash == NULL) {
		dir[0] = '.';
		dir[1] = '\0';
	} else if (slash == path) {
		dir[0] = '/';
		dir[1] = '\0';
	} else {
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (fsync(fd) == -1)
		rc = -errno;
	close(fd);
	return rc;
}

int
util_atomic_write(const char *path, const void *data, size_t len, mode_t mode,
    gid_t gid)
{
	char	tmp[PATH_MAX];
	int	fd = -1, rc, n, renamed = 0;

	tmp[0] = '\0';
	n = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		tmp[0] = '\0';
		rc = -ENAMETOOLONG;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		tmp[0] = '\0';
		rc = -errno;
		goto out;
	}
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) == -1) {
		rc = -errno;
		goto out;
	}
	if (fchmod(fd, mode) == -1) {
		rc = -errno;
		goto out;
	}
	rc = util_write_all(fd, data, len);
	if (rc != 0)
		goto out;
	if (fsync(fd) == -1) {
		rc = -errno;
		goto out;
	}
	n = close(fd);
	fd = -1;
	if (n == -1) {
		rc = -errno;
		goto out;
	}
	if (rename(tmp, path) == -1) {
		rc = -errno;
		goto out;
	}
	renamed = 1;
	rc = fsync_dir_of(path);
out:
	if (fd != -1)
		close(fd);
	/* Before the rename the target is untouched: drop the temp file. */
	if (!renamed && tmp[0] != '\0')
		(void)unlink(tmp);
	return rc;
}

int
util_parse_uint(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long	 v;
	char			*end;

	if (s == NULL || *s < '0' || *s > '9')
		return TLSAD_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE || *end != '\0' || v < min || v > max)
		return TLSAD_EINVAL;
	*out = v;
	return 0;
}

void
util_hex(const uint8_t *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_unhex(const char *in, uint8_t *out, size_t outsize, size_t *outlen)
{
	size_t	n = strlen(in), i;
	int	hi, lo;

	if (n % 2 != 0 || n / 2 > outsize)
		return TLSAD_EINVAL;
	for (i = 0; i < n / 2; i++) {
		hi = hexval(in[2 * i]);
		lo = hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return TLSAD_EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

char *
util_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

static int64_t
clock_ms(clockid_t id)
{
	struct timespec	ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
util_now_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

int64_t
util_now_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
