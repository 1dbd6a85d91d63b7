/*
 * tlsad.c -- the daemon: options, config, event loop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tlsad/conf.h"
#include "tlsad/error.h"
#include "tlsad/log.h"

static void
usage(void)
{
	fprintf(stderr, "usage: tlsad [-dnV] [-c FILE]\n");
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct conf	*conf = NULL;
	const char	*path = CONF_DEFAULT_PATH;
	char		*errmsg = NULL;
	int		 ch, rc, checkonly = 0;

	log_init("tlsad", LOG_LEVEL_INFO);
	while ((ch = getopt(argc, argv, "c:dnV")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'd':
			log_setlevel(LOG_LEVEL_DEBUG);
			break;
		case 'n':
			checkonly = 1;
			break;
		case 'V':
			printf("tlsad %s\n", TLSAD_VERSION);
			return 0;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	/*
	 * -n: check the file and stop.  Silent and 0 when it is valid; one
	 * "FILE:LINE:COL: message" line and 1 when not, for ExecStartPre and
	 * for scripts.
	 */
	rc = conf_load(path, &conf, &errmsg);
	if (rc != 0) {
		if (errmsg != NULL)
			fprintf(stderr, "%s\n", errmsg);
		else
			fprintf(stderr, "%s: %s\n", path, tlsad_strerror(rc));
		free(errmsg);
		return 1;
	}
	if (checkonly) {
		conf_free(conf);
		return 0;
	}
	log_err("the daemon's event loop is not built yet");
	conf_free(conf);
	return 1;
}
