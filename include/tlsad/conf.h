/*
 * conf.h -- the configuration: tlsad.conf in unbound.conf style.
 *
 *	server:
 *	    live-dir: /etc/letsencrypt/live
 *	lineage:
 *	    name: mx.example.org
 *	    tlsa-name: _25._tcp.mx.example.org
 *
 * conf.c parses and validates everything; later code may trust a struct
 * conf that conf_load() returned.  Pure apart from reading the file; never
 * logs: errors come back as one "FILE:LINE:COL: message" string.
 * Every option is documented in docs/tlsad.conf.5.
 */
#ifndef TLSAD_CONF_H
#define TLSAD_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tlsad/tlsa.h"

#define CONF_DEFAULT_PATH	TLSAD_SYSCONFDIR "/tlsad/tlsad.conf"
#define CONF_MAX_SIZE		(1024 * 1024)
#define CONF_MAX_LINE		4096	/* bytes in one line, newline excluded */
#define CONF_MAX_LIST		64	/* values of one repeatable key per clause */
#define CONF_MAX_LINEAGES	10000	/* lineage: clauses in one file */
#define CONF_MAX_ARGV		64	/* words of a reload: command line */

/* An IP literal (v4 or v6) and a port: "192.0.2.1@53", "2001:db8::1@53". */
struct conf_addr {
	char		host[64];	/* numeric address, NUL-terminated */
	uint16_t	port;
};

enum conf_verify_mode {
	CONF_VERIFY_STARTTLS = 0,	/* SMTP STARTTLS (25, 587) */
	CONF_VERIFY_TLS = 1,		/* TLS at once (465) */
};

/* verify: 127.0.0.1@25 starttls [servername] */
struct conf_verify {
	struct conf_addr	 addr;
	enum conf_verify_mode	 mode;
	char			*servername;	/* SNI; NULL: the lineage name */
};

/*
 * One lineage: clause.  After conf_load() every port is set (update-server
 * and auth-server default to dns-port), tlsa has at least one entry,
 * deploy_file and reload_argv are always set, DNS names are lower case.
 */
struct conf_lineage {
	char			 *name;		/* directory under live-dir */
	char			**tlsa_names;	/* absolute owner names, with final dot */
	size_t			  ntlsa_names;
	struct tlsa_param	 *tlsa;		/* default: one, 3 1 1 */
	size_t			  ntlsa;
	struct conf_addr	  update_server;
	int			  has_update_server;
	struct conf_addr	 *auth_servers;	/* empty: the zone's NS addresses */
	size_t			  nauth_servers;
	char			 *deploy_file;	/* key + full chain, one file */
	char			 *deploy_group;	/* NULL: mode 0600 root */
	char			**reload_argv;	/* NULL-terminated; no shell */
	struct conf_verify	 *verify;
	size_t			  nverify;
	char			 *key_file;	/* per-lineage TSIG key, or NULL: conf->key_file */
	int			  line;		/* where the clause starts */
};

/* The whole file.  After conf_load() every path of server: is set. */
struct conf {
	char			*path;
	/* server: */
	char			*live_dir;	/* /etc/letsencrypt/live */
	char			*state_dir;	/* /var/lib/tlsad */
	char			*deploy_dir;	/* /etc/tlsad/deploy: default for deploy-file */
	char			*control_socket; /* /run/tlsad/tlsad.sock */
	char			*trust_anchor_file; /* /usr/share/dns/root.key */
	struct conf_addr	*resolvers;	/* forwarding resolvers; empty: full recursion */
	size_t			 nresolvers;
	uint16_t		 dns_port;	/* port for servers found via NS/SOA: 53 */
	unsigned		 dns_timeout_ms;	/* one DNS exchange: 5000 */
	unsigned		 ttl_multiplier;	/* 2 (RFC 7671 8.1) */
	unsigned		 hold_margin_s;		/* 60 */
	unsigned		 propagation_timeout_s;	/* 3600 */
	unsigned		 poll_min_ms;		/* first poll interval: 500 */
	unsigned		 poll_max_ms;		/* backoff cap: 60000 */
	unsigned		 quiet_period_ms;	/* after inotify events: 2000 */
	unsigned		 rescan_interval_s;	/* 3600 */
	unsigned		 retry_min_s;		/* after a failure: 60 */
	unsigned		 retry_max_s;		/* backoff cap: 3600 */
	unsigned		 expiry_warn_days;	/* 14 */
	int			 log_level;		/* LOG_LEVEL_INFO */
	/* key: */
	char			*key_file;	/* default TSIG key file */
	/* lineage: (one clause each) */
	struct conf_lineage	*lineages;
	size_t			 nlineages;
};

/*
 * Parse and validate path.  On success *out is the caller's (conf_free).
 * On failure *errmsg (if errmsg is not NULL) is a malloc'ed
 * "FILE:LINE:COL: message" string for the caller to print and free.
 */
int	conf_load(const char *path, struct conf **out, char **errmsg);
/* Parse from memory; name is used in messages. */
int	conf_parse(const char *name, const char *text, size_t len,
	    struct conf **out, char **errmsg);
void	conf_free(struct conf *conf);

/* The lineage clause with this name, or NULL. */
const struct conf_lineage *conf_lineage_find(const struct conf *conf,
	    const char *name);

#endif /* TLSAD_CONF_H */
