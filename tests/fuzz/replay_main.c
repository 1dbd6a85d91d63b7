/*
 * replay_main.c -- run a fuzz target over its corpus without libFuzzer.
 * usage: fuzz_X_replay DIR|FILE...  Every regular file in each DIR (and
 * each FILE) goes to LLVMFuzzerTestOneInput once.  Exits 1 when nothing was
 * replayed, so a lost corpus fails the test instead of passing it.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "tlsad/error.h"
#include "tlsad/util.h"

#define REPLAY_MAX	(4 * 1024 * 1024)

static int
replay_file(const char *path, size_t *count)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = util_read_file(path, REPLAY_MAX, &buf, &len);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", path, tlsad_strerror(rc));
		return 1;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
	(*count)++;
	return 0;
}

static int
replay_dir(const char *dirpath, size_t *count)
{
	DIR		*dir;
	struct dirent	*de;
	char		 path[PATH_MAX];
	int		 bad = 0;

	dir = opendir(dirpath);
	if (dir == NULL) {
		fprintf(stderr, "%s: %s\n", dirpath, strerror(errno));
		return 1;
	}
	for (;;) {
		de = readdir(dir);
		if (de == NULL)
			break;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		bad |= replay_file(path, count);
	}
	closedir(dir);
	return bad;
}

int
main(int argc, char *argv[])
{
	struct stat	 st;
	size_t		 count = 0;
	int		 i, bad = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
			bad = 1;
		} else if (S_ISDIR(st.st_mode))
			bad |= replay_dir(argv[i], &count);
		else
			bad |= replay_file(argv[i], &count);
	}
	printf("replayed %zu inputs\n", count);
	return bad || count == 0 ? 1 : 0;
}
