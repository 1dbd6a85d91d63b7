/*
 * cmd_tlsa.c -- `tlsactl tlsa`: print the TLSA records of certificate files
 * in zone-file presentation form.
 *
 *   tlsactl tlsa [-u USAGE] [-s SELECTOR] [-m MTYPE] [-r "U S M"]...
 *                [-p PORT] [-H HOST | -o OWNER] [-t TTL] FILE...
 *
 * Without -H or -o only the record data is printed, one "U S M HEX" line
 * per record; with them, whole records: "OWNER TTL IN TLSA U S M HEX".
 * Files are handled in order, records in the order the options gave them.
 * A bad file is reported on stderr ("tlsactl: FILE: reason") and the others
 * are still printed; the exit status is then 1.  Exit 64 on bad usage.
 * Built for thousands of files in one run: OpenSSL is set up once, each
 * file is read once, and output is buffered.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/cert.h"
#include "tlsad/cmd.h"
#include "tlsad/error.h"
#include "tlsad/tlsa.h"
#include "tlsad/util.h"

#define EXIT_OK		0
#define EXIT_BADINPUT	1
#define EXIT_USAGE	64

/* Most -r options, and the longest owner name (RFC 1035: 255 octets). */
#define PARAMS_MAX	16
#define OWNER_MAX	256
#define DEFAULT_TTL	3600

struct tlsa_opts {
	struct tlsa_param	param[PARAMS_MAX];
	size_t			nparam;
	char			owner[OWNER_MAX];	/* "" = rdata only */
	unsigned long long	ttl;
};

static void
tlsa_usage(void)
{
	fprintf(stderr, "usage: tlsactl tlsa [-u USAGE] [-s SELECTOR] "
	    "[-m MTYPE] [-r \"U S M\"]... [-p PORT]\n"
	    "                    [-H HOST | -o OWNER] [-t TTL] FILE...\n");
}

static int
parse_small(const char *s, unsigned long long max, uint8_t *out)
{
	unsigned long long	v;

	if (util_parse_uint(s, 0, max, &v) != 0)
		return TLSAD_EUSAGE;
	*out = (uint8_t)v;
	return 0;
}

/* "3 1 1", "3,1,1" or "311" into p. */
static int
parse_triple(const char *s, struct tlsa_param *p)
{
	char	buf[32];
	size_t	i, n = strlen(s);

	if (n >= sizeof(buf))
		return TLSAD_EUSAGE;
	if (n == 3 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2])) {
		buf[0] = s[0];
		buf[1] = ' ';
		buf[2] = s[1];
		buf[3] = ' ';
		buf[4] = s[2];
		buf[5] = '\0';
	} else {
		for (i = 0; i <= n; i++)
			buf[i] = s[i] == ',' ? ' ' : s[i];
	}
	return tlsa_param_parse(buf, p) == 0 ? 0 : TLSAD_EUSAGE;
}

/* A domain name as given, made absolute; no white space, within length. */
static int
set_owner(char *dst, const char *prefix, const char *name)
{
	size_t	i, n = strlen(name);
	int	len;

	if (n == 0)
		return TLSAD_EUSAGE;
	for (i = 0; i < n; i++) {
		if (isspace((unsigned char)name[i]) || iscntrl((unsigned char)name[i]))
			return TLSAD_EUSAGE;
	}
	len = snprintf(dst, OWNER_MAX, "%s%s%s", prefix, name,
	    name[n - 1] == '.' ? "" : ".");
	if (len < 0 || len >= OWNER_MAX)
		return TLSAD_EUSAGE;
	return 0;
}

/* Print the records of one file; returns 0 or the error for that file. */
static int
one_file(const struct tlsa_opts *o, const char *path)
{
	struct cert_chain	*chain = NULL;
	struct tlsa_rr		 rr[PARAMS_MAX];
	char			*text[PARAMS_MAX];
	size_t			 i;
	int			 rc;

	memset(rr, 0, sizeof(rr));
	memset(text, 0, sizeof(text));
	rc = cert_chain_load_flags(path, CERT_LOAD_LAZY, &chain);
	if (rc != 0)
		goto out;
	/* Compute all first: a file prints all its records or none. */
	for (i = 0; i < o->nparam; i++) {
		rc = cert_tlsa_rr(chain, o->param[i], &rr[i]);
		if (rc != 0)
			goto out;
		rc = tlsa_rr_format(&rr[i], &text[i]);
		if (rc != 0)
			goto out;
	}
	for (i = 0; i < o->nparam; i++) {
		if (o->owner[0] != '\0')
			printf("%s %llu IN TLSA %s\n", o->owner, o->ttl, text[i]);
		else
			printf("%s\n", text[i]);
	}
	rc = 0;
out:
	for (i = 0; i < o->nparam; i++) {
		free(text[i]);
		tlsa_rr_clear(&rr[i]);
	}
	cert_chain_free(chain);
	return rc;
}

int
cmd_tlsa(const struct cmd_env *env, int argc, char *argv[])
{
	static char		 outbuf[1 << 16];
	struct tlsa_opts	 o;
	struct tlsa_param	 single = { 3, 1, 1 };
	const char		*port = NULL, *host = NULL, *owner = NULL;
	const char		*ttl = NULL;
	unsigned long long	 portnum;
	char			 prefix[32];
	int			 ch, have_single = 0, status = EXIT_OK, i, rc;

	(void)env;
	memset(&o, 0, sizeof(o));
	o.ttl = DEFAULT_TTL;
	for (;;) {
		ch = getopt(argc, argv, "hu:s:m:r:p:H:o:t:");
		if (ch == -1)
			break;
		switch (ch) {
		case 'u':
			if (parse_small(optarg, TLSA_USAGE_DANE_EE,
			    &single.usage) != 0)
				goto badusage;
			have_single = 1;
			break;
		case 's':
			if (parse_small(optarg, TLSA_SELECTOR_SPKI,
			    &single.selector) != 0)
				goto badusage;
			have_single = 1;
			break;
		case 'm':
			if (parse_small(optarg, TLSA_MTYPE_SHA512,
			    &single.mtype) != 0)
				goto badusage;
			have_single = 1;
			break;
		case 'r':
			if (o.nparam == PARAMS_MAX - 1 ||
			    parse_triple(optarg, &o.param[o.nparam]) != 0)
				goto badusage;
			o.nparam++;
			break;
		case 'p':
			port = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'o':
			owner = optarg;
			break;
		case 't':
			ttl = optarg;
			break;
		case 'h':
			tlsa_usage();
			return EXIT_OK;
		default:
			tlsa_usage();
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		fprintf(stderr, "tlsactl: tlsa: no certificate file given\n");
		goto usage;
	}
	if (have_single || o.nparam == 0)
		o.param[o.nparam++] = single;
	if (host != NULL && owner != NULL) {
		fprintf(stderr, "tlsactl: tlsa: -H and -o exclude each other\n");
		goto usage;
	}
	if (port != NULL && host == NULL) {
		fprintf(stderr, "tlsactl: tlsa: -p needs -H HOST\n");
		goto usage;
	}
	if (ttl != NULL && host == NULL && owner == NULL) {
		fprintf(stderr, "tlsactl: tlsa: -t needs -H HOST or -o OWNER\n");
		goto usage;
	}
	if (ttl != NULL && util_parse_uint(ttl, 0, 2147483647ULL, &o.ttl) != 0) {
		fprintf(stderr, "tlsactl: tlsa: bad TTL: %s (0-2147483647)\n",
		    ttl);
		goto usage;
	}
	if (host != NULL) {
		portnum = 25;
		if (port != NULL && util_parse_uint(port, 1, 65535,
		    &portnum) != 0) {
			fprintf(stderr, "tlsactl: tlsa: bad port: %s\n", port);
			goto usage;
		}
		snprintf(prefix, sizeof(prefix), "_%llu._tcp.", portnum);
		if (set_owner(o.owner, prefix, host) != 0) {
			fprintf(stderr, "tlsactl: tlsa: bad host name: %s\n",
			    host);
			goto usage;
		}
	}
	if (owner != NULL && set_owner(o.owner, "", owner) != 0) {
		fprintf(stderr, "tlsactl: tlsa: bad owner name: %s\n", owner);
		goto usage;
	}

	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
	for (i = 0; i < argc; i++) {
		rc = one_file(&o, argv[i]);
		if (rc != 0) {
			fflush(stdout);
			fprintf(stderr, "tlsactl: %s: %s\n", argv[i],
			    tlsad_strerror(rc));
			status = EXIT_BADINPUT;
		}
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "tlsactl: tlsa: error writing the output\n");
		status = EXIT_BADINPUT;
	}
	return status;
badusage:
	fprintf(stderr, "tlsactl: tlsa: bad value for -%c: %s\n", ch, optarg);
usage:
	tlsa_usage();
	return EXIT_USAGE;
}
