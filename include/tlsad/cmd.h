/*
 * cmd.h -- the commands of tlsactl.  Each lives in src/cmd_<name>.c and
 * returns the process exit status that tlsactl.8 documents for it.
 */
#ifndef TLSAD_CMD_H
#define TLSAD_CMD_H

struct cmd_env {
	const char	*conf_path;	/* -c FILE, or the default */
	int		 verbose;	/* -v count */
};

/*
 * argv[0] is the command name; getopt may be used (optind is reset to 1 by
 * the caller before the call).
 */
typedef int	cmd_fn(const struct cmd_env *env, int argc, char *argv[]);

cmd_fn	cmd_tlsa;
cmd_fn	cmd_publish;	/* src/cmd_publish.c */
cmd_fn	cmd_retire;	/* src/cmd_retire.c */
cmd_fn	cmd_dns;	/* src/cmd_dns.c */
cmd_fn	cmd_doctor;	/* src/cmd_doctor.c */
cmd_fn	cmd_status;	/* src/cmd_status.c */
cmd_fn	cmd_check;	/* src/cmd_status.c */
cmd_fn	cmd_kick;	/* src/cmd_kick.c */
cmd_fn	cmd_rollover;	/* src/cmd_rollover.c */

#endif /* TLSAD_CMD_H */
