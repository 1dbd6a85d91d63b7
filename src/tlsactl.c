/*
 * tlsactl.c -- the command-line tool: a table of commands.
 * Global options come before the command: tlsactl [-v] [-c FILE] COMMAND ...
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/log.h"

struct command {
	const char	*name;
	cmd_fn		*fn;
	const char	*usage;
};

static const struct command commands[] = {
	{ "tlsa", cmd_tlsa,
	  "tlsa [-r \"U S M\"]... [-u U -s S -m M] [-p PORT -H HOST | -o OWNER] [-t TTL] FILE..." },
	{ "publish", cmd_publish, "publish [-n | --dry-run] [-s | --served FILE] LINEAGE" },
	{ "retire", cmd_retire, "retire [-n | --dry-run] [-s | --served FILE] LINEAGE" },
	{ "dns", cmd_dns, "dns LINEAGE" },
	{ "doctor", cmd_doctor, "doctor [-C POSTFIX_CONFIG_DIR]" },
	{ "status", cmd_status, "status [--json] [LINEAGE]" },
	{ "check", cmd_check, "check [LINEAGE]" },
	{ "kick", cmd_kick, "kick [-q] LINEAGE_OR_PATH" },
	{ "rollover", cmd_rollover, "rollover [-q] LINEAGE" },
};

static void
usage(void)
{
	size_t	i;

	fprintf(stderr, "usage: tlsactl [-v] [-c FILE] COMMAND [ARGS]\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "       tlsactl %s\n", commands[i].usage);
	exit(64);
}

int
main(int argc, char *argv[])
{
	struct cmd_env	env = { CONF_DEFAULT_PATH, 0 };
	size_t		i;
	int		ch;

	log_init("tlsactl", LOG_LEVEL_INFO);
	for (;;) {
		ch = getopt(argc, argv, "+c:hvV");
		if (ch == -1)
			break;
		switch (ch) {
		case 'c':
			env.conf_path = optarg;
			break;
		case 'v':
			env.verbose++;
			log_setlevel(LOG_LEVEL_DEBUG);
			break;
		case 'V':
			printf("tlsactl %s\n", TLSAD_VERSION);
			return 0;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			optind = 1;
			return commands[i].fn(&env, argc, argv);
		}
	}
	fprintf(stderr, "tlsactl: unknown command: %s\n", argv[0]);
	usage();
}
