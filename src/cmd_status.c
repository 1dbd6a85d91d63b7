/*
 * cmd_status.c -- `tlsactl status [--json] [LINEAGE]` and `tlsactl check
 * [LINEAGE]`: every lineage's state, judged by status.c from the files
 * (state, live lineage, deploy file), so both work while the daemon is down.
 *
 * Exit: 0 fine, 1 warning, 2 critical (the rules are in status.h and
 * tlsactl.8), 3 unknown: the config or the lineage named cannot be used
 * (the monitoring-plugin convention); 64 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/error.h"
#include "tlsad/status.h"
#include "tlsad/util.h"

#define EXIT_UNKNOWN	3

/* Load the config and collect; on failure *why says what went wrong. */
static int
collect(const struct cmd_env *env, const char *name,
    struct status_report **rep, char *why, size_t whylen)
{
	struct conf	*conf = NULL;
	char		*errmsg = NULL;
	int		 rc;

	rc = conf_load(env->conf_path, &conf, &errmsg);
	if (rc != 0) {
		snprintf(why, whylen, "%s", errmsg != NULL ? errmsg :
		    tlsad_strerror(rc));
		goto out;
	}
	rc = status_collect(conf, name, util_now_wall_ms(), rep);
	if (rc == TLSAD_ECONF_NOLINEAGE)
		snprintf(why, whylen, "no lineage %s in %s", name, conf->path);
	else if (rc != 0)
		snprintf(why, whylen, "%s", tlsad_strerror(rc));
out:
	free(errmsg);
	conf_free(conf);
	return rc;
}

int
cmd_status(const struct cmd_env *env, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct status_report	*rep = NULL;
	char			*out = NULL, why[1024];
	size_t			 len = 0;
	int			 ch, json = 0, rc, status = EXIT_UNKNOWN;

	for (;;) {
		ch = getopt_long(argc, argv, "hj", longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'j':
			json = 1;
			break;
		default:
			fprintf(stderr, "usage: tlsactl status [--json] "
			    "[LINEAGE]\n");
			return ch == 'h' ? 0 : 64;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "usage: tlsactl status [--json] [LINEAGE]\n");
		return 64;
	}
	rc = collect(env, optind < argc ? argv[optind] : NULL, &rep, why,
	    sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: status: %s\n", why);
		goto out;
	}
	rc = json ? status_json(rep, &out, &len) : status_text(rep, &out, &len);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: status: %s\n", tlsad_strerror(rc));
		goto out;
	}
	if (fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "tlsactl: status: cannot write the output\n");
		goto out;
	}
	status = status_exit_code(rep);
out:
	free(out);
	status_report_free(rep);
	return status;
}

int
cmd_check(const struct cmd_env *env, int argc, char *argv[])
{
	struct status_report	*rep = NULL;
	char			 line[1024], why[1024];
	int			 ch, rc, status = EXIT_UNKNOWN;

	for (;;) {
		ch = getopt(argc, argv, "h");
		if (ch == -1)
			break;
		fprintf(stderr, "usage: tlsactl check [LINEAGE]\n");
		return ch == 'h' ? 0 : 64;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "usage: tlsactl check [LINEAGE]\n");
		return 64;
	}
	rc = collect(env, optind < argc ? argv[optind] : NULL, &rep, why,
	    sizeof(why));
	if (rc != 0) {
		/* One line, no newline inside, as a plugin must print. */
		for (ch = 0; why[ch] != '\0'; ch++)
			if (why[ch] == '\n')
				why[ch] = ' ';
		printf("TLSAD UNKNOWN - %s\n", why);
		goto out;
	}
	status_check_line(rep, line, sizeof(line));
	printf("%s\n", line);
	status = status_exit_code(rep);
out:
	status_report_free(rep);
	return status;
}
