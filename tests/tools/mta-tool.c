/*
 * mta-tool.c -- drive deploy.c and mta.c from integration tests.
 *
 *	mta-tool deploy FILE KEYPEM CHAINPEM [-g GROUP] [-l LIVE_DIR]
 *	mta-tool restore FILE
 *	mta-tool readkey FILE
 *	mta-tool reload [-t MS] ARGV...
 *	mta-tool probe ADDR@PORT starttls|tls SERVERNAME [-e HEX] [-t MS] [RR...]
 *	mta-tool probekey ADDR@PORT starttls|tls SERVERNAME [-t MS]
 *
 * RR is "3 1 1 HEX" (one argument).  Output: "ok" or "error NAME: why" on
 * the first line; probes add "served HEX" when a handshake completed,
 * readkey prints the key's SPKI SHA-256.  Exit 0 on success, 1 on failure,
 * 64 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "tlsad/conf.h"
#include "tlsad/deploy.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/mta.h"
#include "tlsad/tlsa.h"
#include "tlsad/util.h"

static int
usage(void)
{
	fprintf(stderr, "usage: mta-tool deploy|restore|readkey|reload|probe|"
	    "probekey ARGS (see the source)\n");
	return 64;
}

static int
report(int rc, const char *why)
{
	if (rc == 0)
		printf("ok\n");
	else
		printf("error %s: %s\n", tlsad_errname(rc),
		    why != NULL && why[0] != '\0' ? why : tlsad_strerror(rc));
	return rc == 0 ? 0 : 1;
}

static int
parse_addr(const char *s, struct conf_addr *a)
{
	const char		*at = strrchr(s, '@');
	unsigned long long	 port;
	size_t			 n;

	if (at == NULL)
		return TLSAD_EINVAL;
	n = (size_t)(at - s);
	if (n == 0 || n >= sizeof(a->host))
		return TLSAD_EINVAL;
	memcpy(a->host, s, n);
	a->host[n] = '\0';
	if (util_parse_uint(at + 1, 1, 65535, &port) != 0)
		return TLSAD_EINVAL;
	a->port = (uint16_t)port;
	return 0;
}

static int
do_deploy(int argc, char *argv[])
{
	char	 why[1024] = "";
	char	*key = NULL, *chain = NULL;
	size_t	 keylen = 0, chainlen = 0;
	const char *group = NULL, *live = NULL;
	int	 ch, rc;

	while ((ch = getopt(argc, argv, "g:l:")) != -1) {
		if (ch == 'g')
			group = optarg;
		else if (ch == 'l')
			live = optarg;
		else
			return usage();
	}
	if (argc - optind != 3)
		return usage();
	rc = util_read_file(argv[optind + 1], DEPLOY_MAX_SIZE, &key, &keylen);
	if (rc == 0)
		rc = util_read_file(argv[optind + 2], DEPLOY_MAX_SIZE, &chain,
		    &chainlen);
	if (rc == 0)
		rc = deploy_install(argv[optind], key, keylen, chain, chainlen,
		    group, live, why, sizeof(why));
	if (key != NULL)
		OPENSSL_cleanse(key, keylen);
	free(key);
	free(chain);
	return report(rc, why);
}

static int
do_probe(int argc, char *argv[], int keyonly)
{
	struct conf_verify	 v;
	struct tlsa_rrset	 set;
	struct tlsa_rr		 rr;
	uint8_t			 expect[32], served[32];
	size_t			 elen = 0;
	unsigned long long	 ms = 10000;
	char			 why[1024] = "", hex[65];
	int			 ch, rc, have = 0, has_expect = 0, i;

	memset(&v, 0, sizeof(v));
	tlsa_rrset_init(&set);
	while ((ch = getopt(argc, argv, "e:t:")) != -1) {
		if (ch == 'e') {
			if (util_unhex(optarg, expect, sizeof(expect), &elen)
			    != 0 || elen != 32)
				return usage();
			has_expect = 1;
		} else if (ch == 't') {
			if (util_parse_uint(optarg, 1, 600000, &ms) != 0)
				return usage();
		} else
			return usage();
	}
	if (argc - optind < 3 || parse_addr(argv[optind], &v.addr) != 0)
		return usage();
	if (strcmp(argv[optind + 1], "starttls") == 0)
		v.mode = CONF_VERIFY_STARTTLS;
	else if (strcmp(argv[optind + 1], "tls") == 0)
		v.mode = CONF_VERIFY_TLS;
	else
		return usage();
	for (i = optind + 3; i < argc; i++) {
		memset(&rr, 0, sizeof(rr));
		if (tlsa_rr_parse(argv[i], &rr) != 0) {
			fprintf(stderr, "mta-tool: bad TLSA record: %s\n",
			    argv[i]);
			return 64;
		}
		rc = tlsa_rrset_add(&set, &rr);
		tlsa_rr_clear(&rr);
		if (rc != 0)
			return report(rc, NULL);
	}
	if (keyonly) {
		rc = mta_probe_key(&v, argv[optind + 2], (unsigned)ms, served,
		    why, sizeof(why));
		have = rc == 0;
	} else
		rc = mta_probe(&v, argv[optind + 2], &set,
		    has_expect ? expect : NULL, (unsigned)ms, served, &have,
		    why, sizeof(why));
	tlsa_rrset_clear(&set);
	ch = report(rc, why);
	if (have) {
		util_hex(served, 32, hex);
		printf("served %s\n", hex);
	}
	return ch;
}

int
main(int argc, char *argv[])
{
	uint8_t			 spki[32];
	char			 why[1024] = "", hex[65];
	unsigned long long	 ms = 10000;
	int			 rc;

	log_init("mta-tool", LOG_LEVEL_WARNING);
	if (argc < 2)
		return usage();
	argc--;
	argv++;
	optind = 1;
	if (strcmp(argv[0], "deploy") == 0)
		return do_deploy(argc, argv);
	if (strcmp(argv[0], "restore") == 0 && argc == 2)
		return report(deploy_restore(argv[1], why, sizeof(why)), why);
	if (strcmp(argv[0], "readkey") == 0 && argc == 2) {
		rc = deploy_read_key(argv[1], spki);
		if (rc != 0)
			return report(rc, NULL);
		util_hex(spki, 32, hex);
		printf("%s\n", hex);
		return 0;
	}
	if (strcmp(argv[0], "reload") == 0) {
		if (argc > 3 && strcmp(argv[1], "-t") == 0) {
			if (util_parse_uint(argv[2], 1, 600000, &ms) != 0)
				return usage();
			argc -= 2;
			argv += 2;
		}
		if (argc < 2)
			return usage();
		return report(mta_reload(argv + 1, (unsigned)ms, why,
		    sizeof(why)), why);
	}
	if (strcmp(argv[0], "probe") == 0)
		return do_probe(argc, argv, 0);
	if (strcmp(argv[0], "probekey") == 0)
		return do_probe(argc, argv, 1);
	return usage();
}
