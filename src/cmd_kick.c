/*
 * cmd_kick.c -- `tlsactl kick LINEAGE_OR_PATH`: ask the running daemon to
 * look at a lineage now (the certbot deploy hook passes $RENEWED_LINEAGE,
 * a path whose last component is the lineage name).  Returns at once: the
 * daemon does the work.
 *
 * Exit: 0 the daemon took it; 69 (CTL_EXIT_NODAEMON) no daemon answers, so
 * that the hook can fall back to `tlsactl rollover`; 1 any other error (not
 * root, unknown lineage, bad config, a daemon that does not answer in
 * time); 64 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/ctl.h"
#include "tlsad/error.h"

int
cmd_kick(const struct cmd_env *env, int argc, char *argv[])
{
	struct conf	*conf = NULL;
	char		*errmsg = NULL, *body = NULL, req[CTL_ARG_MAX + 8];
	int		 ch, rc, code = 0, status = 1, quiet = 0;
	size_t		 len;

	for (;;) {
		ch = getopt(argc, argv, "hq");
		if (ch == -1)
			break;
		if (ch == 'q') {
			quiet = 1;
			continue;
		}
		fprintf(stderr, "usage: tlsactl kick [-q] LINEAGE_OR_PATH\n");
		return ch == 'h' ? 0 : 64;
	}
	if (argc - optind != 1 || argv[optind][0] == '\0') {
		fprintf(stderr, "usage: tlsactl kick [-q] LINEAGE_OR_PATH\n");
		return 64;
	}
	if (strlen(argv[optind]) >= CTL_ARG_MAX ||
	    strchr(argv[optind], '\n') != NULL) {
		fprintf(stderr, "tlsactl: kick: the argument is too long or "
		    "holds a newline\n");
		return 64;
	}
	rc = conf_load(env->conf_path, &conf, &errmsg);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: %s\n", errmsg != NULL ? errmsg :
		    tlsad_strerror(rc));
		goto out;
	}
	snprintf(req, sizeof(req), "kick %s", argv[optind]);
	rc = ctl_request(conf->control_socket, req, CTL_TIMEOUT_MS, &code,
	    &body);
	if (rc == TLSAD_ECTL_NODAEMON) {
		fprintf(stderr, "tlsactl: kick: no tlsad answers on %s\n",
		    conf->control_socket);
		status = CTL_EXIT_NODAEMON;
		goto out;
	}
	if (rc != 0) {
		fprintf(stderr, "tlsactl: kick: %s: %s\n", conf->control_socket,
		    tlsad_strerror(rc));
		goto out;
	}
	len = body != NULL ? strlen(body) : 0;
	while (len > 0 && body[len - 1] == '\n')
		body[--len] = '\0';
	if (code != 0) {
		if (code == TLSAD_ECTL_PERM)
			fprintf(stderr, "tlsactl: kick: only root may kick a "
			    "lineage\n");
		else
			fprintf(stderr, "tlsactl: kick: %s\n", len > 0 ? body :
			    tlsad_strerror(code));
		goto out;
	}
	if (!quiet && len > 0)
		printf("%s\n", body);
	status = 0;
out:
	free(body);
	free(errmsg);
	conf_free(conf);
	return status;
}
