/*
 * dnsupdate-tool.c -- drive dnsupdate/dnsquery from integration tests.
 *
 *   dnsupdate-tool apply -s ADDR [-p PORT] -k KEYFILE [-n KEYNAME] -z ZONE
 *       [-t MS] [-T TTL] [-d] OP...
 *   dnsupdate-tool send  (same options) OP...      (no read: exact message)
 *   dnsupdate-tool query -s ADDR [-p PORT] [-t MS] [-r] NAME TYPE
 *
 * OP: add OWNER "U S M HEX" | del OWNER "U S M HEX"
 *     | pre-none OWNER | pre-rr OWNER "U S M HEX"   (send only)
 * Prints "result: NAME" (OK or the error.h name), "msg: ..." and a
 * "sent: N add: N del: N rcode: R tsig-error: T offset: S" line; exit 0 on
 * success, 1 on failure, 2 on usage errors.  Test code: not installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tlsad/dnsquery.h"
#include "tlsad/dnsupdate.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/tsig.h"
#include "tlsad/util.h"

#define MAXN	256

struct owner_sets {
	const char		*owner;
	struct tlsa_rrset	 add, del, pre;
	int			 pre_none, pre_rr;
};

static struct owner_sets	owners[MAXN];
static size_t			nowners;

static void
usage(void)
{
	fprintf(stderr, "usage: dnsupdate-tool apply|send -s ADDR [-p PORT] -k KEYFILE "
	    "[-n KEYNAME] -z ZONE [-t MS] [-T TTL] [-d] OP...\n"
	    "       dnsupdate-tool query -s ADDR [-p PORT] [-t MS] [-r] NAME TYPE\n");
	exit(2);
}

static struct owner_sets *
owner_get(const char *owner)
{
	size_t	i;

	for (i = 0; i < nowners; i++)
		if (strcasecmp(owners[i].owner, owner) == 0)
			return &owners[i];
	if (nowners == MAXN)
		usage();
	owners[nowners].owner = owner;
	tlsa_rrset_init(&owners[nowners].add);
	tlsa_rrset_init(&owners[nowners].del);
	tlsa_rrset_init(&owners[nowners].pre);
	return &owners[nowners++];
}

static void
parse_rr(const char *s, struct tlsa_rr *rr)
{
	memset(rr, 0, sizeof(*rr));
	if (tlsa_rr_parse(s, rr) != 0) {
		fprintf(stderr, "bad TLSA rdata: %s\n", s);
		exit(2);
	}
}

static int
cmd_query(const char *server, uint16_t port, unsigned timeout, int rd,
    const char *name, const char *type)
{
	ldns_pkt		*pkt = NULL;
	struct tlsa_rrset	 set;
	struct dns_soa		 soa;
	ldns_rr_type		 t;
	uint32_t		 ttl = 0;
	size_t			 i;
	char			*s;
	int			 rc;

	tlsa_rrset_init(&set);
	t = ldns_get_rr_type_by_name(type);
	rc = dns_query(server, port, name, t, rd, timeout, &pkt);
	printf("result: %s\n", rc == 0 ? "OK" : tlsad_errname(rc));
	if (pkt == NULL)
		goto out;
	printf("rcode: %s aa: %d\n", dns_rcode_name(ldns_pkt_get_rcode(pkt)),
	    ldns_pkt_aa(pkt) ? 1 : 0);
	if (t == LDNS_RR_TYPE_TLSA && dns_pkt_tlsa(pkt, name, &set, &ttl) == 0) {
		printf("ttl: %u\n", ttl);
		for (i = 0; i < set.n; i++) {
			if (tlsa_rr_format(&set.rr[i], &s) == 0) {
				printf("tlsa: %s\n", s);
				free(s);
			}
		}
	}
	if (dns_pkt_soa(pkt, &soa) == 0)
		printf("soa: %s serial %u minimum %u ttl %u negttl %u mname %s %s\n",
		    soa.owner, soa.serial, soa.minimum, soa.ttl, soa.negttl,
		    soa.mname, soa.in_answer ? "answer" : "authority");
out:
	tlsa_rrset_clear(&set);
	ldns_pkt_free(pkt);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	struct dnsupdate_opts		 opts;
	struct dnsupdate_result		 res;
	struct dnsupdate_change		 ch[MAXN];
	struct dnsupdate_prereq		 pre[MAXN];
	struct dnsupdate_op		 ops[MAXN * 4];
	struct tlsa_rr			 rrs[MAXN * 4];
	struct tsig_key			*key = NULL;
	const char			*cmd, *keyfile = NULL, *keyname = NULL;
	const char			*zone = NULL;
	char				 why[256];
	unsigned long long		 v;
	size_t				 i, nops = 0, npre = 0, nrrs = 0;
	int				 c, rc, rd = 0, j;

	log_init("dnsupdate-tool", LOG_LEVEL_DEBUG);
	memset(&opts, 0, sizeof(opts));
	memset(ch, 0, sizeof(ch));
	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	for (;;) {
		c = getopt(argc, argv, "s:p:k:n:z:t:T:dr");
		if (c == -1)
			break;
		switch (c) {
		case 's':
			opts.server = optarg;
			break;
		case 'p':
			if (util_parse_uint(optarg, 1, 65535, &v) != 0)
				usage();
			opts.port = (uint16_t)v;
			break;
		case 'k':
			keyfile = optarg;
			break;
		case 'n':
			keyname = optarg;
			break;
		case 'z':
			zone = optarg;
			break;
		case 't':
			if (util_parse_uint(optarg, 1, 600000, &v) != 0)
				usage();
			opts.timeout_ms = (unsigned)v;
			break;
		case 'T':
			if (util_parse_uint(optarg, 1, 86400, &v) != 0)
				usage();
			opts.ttl = (uint32_t)v;
			break;
		case 'd':
			opts.dry_run = 1;
			break;
		case 'r':
			rd = 1;
			break;
		default:
			usage();
		}
	}
	if (opts.server == NULL)
		usage();
	if (strcmp(cmd, "query") == 0) {
		if (argc - optind != 2)
			usage();
		return cmd_query(opts.server, opts.port ? opts.port : 53,
		    opts.timeout_ms, rd, argv[optind], argv[optind + 1]);
	}
	if ((strcmp(cmd, "apply") != 0 && strcmp(cmd, "send") != 0) ||
	    keyfile == NULL || zone == NULL)
		usage();
	rc = tsig_load(keyfile, keyname, &key, why, sizeof(why));
	if (rc != 0) {
		printf("result: %s\nmsg: %s: %s\n", tlsad_errname(rc), keyfile, why);
		return 1;
	}
	if (key->weak)
		log_warnx("%s: key %s uses hmac-sha1: move to hmac-sha256", keyfile,
		    key->name);
	for (j = optind; j < argc; j++) {
		const char	*op = argv[j];

		if (j + 1 >= argc)
			usage();
		if (strcmp(op, "pre-none") == 0) {
			owner_get(argv[++j])->pre_none = 1;
			continue;
		}
		if (j + 2 >= argc || nrrs == MAXN * 4)
			usage();
		{
			struct owner_sets	*o = owner_get(argv[j + 1]);
			struct tlsa_rr		*rr = &rrs[nrrs++];

			parse_rr(argv[j + 2], rr);
			if (strcmp(op, "add") == 0) {
				tlsa_rrset_add(&o->add, rr);
				ops[nops++] = (struct dnsupdate_op){ o->owner, 1, rr, 0 };
			} else if (strcmp(op, "del") == 0) {
				tlsa_rrset_add(&o->del, rr);
				ops[nops++] = (struct dnsupdate_op){ o->owner, 0, rr, 0 };
			} else if (strcmp(op, "pre-rr") == 0) {
				tlsa_rrset_add(&o->pre, rr);
				o->pre_rr = 1;
			} else {
				usage();
			}
			j += 2;
		}
	}
	if (strcmp(cmd, "apply") == 0) {
		for (i = 0; i < nowners; i++) {
			ch[i].owner = owners[i].owner;
			ch[i].add = &owners[i].add;
			ch[i].del = &owners[i].del;
		}
		rc = dnsupdate_apply(zone, key, ch, nowners, &opts, &res);
	} else {
		for (i = 0; i < nowners; i++) {
			if (owners[i].pre_none || owners[i].pre_rr) {
				pre[npre].owner = owners[i].owner;
				pre[npre].exists = owners[i].pre_rr;
				pre[npre].rrset = &owners[i].pre;
				npre++;
			}
		}
		rc = dnsupdate_send(zone, key, pre, npre, ops, nops, opts.ttl, &opts,
		    &res);
	}
	printf("result: %s\nmsg: %s\n", rc == 0 ? "OK" : tlsad_errname(rc), res.msg);
	printf("sent: %d add: %zu del: %zu rcode: %s tsig-error: %d",
	    res.sent, res.nadd, res.ndel,
	    res.rcode < 0 ? "none" : dns_rcode_name(res.rcode), res.tsig_error);
	if (res.has_offset)
		printf(" offset: %lld", (long long)res.clock_offset_s);
	printf("\n");
	for (i = 0; i < nowners; i++) {
		tlsa_rrset_clear(&owners[i].add);
		tlsa_rrset_clear(&owners[i].del);
		tlsa_rrset_clear(&owners[i].pre);
	}
	for (i = 0; i < nrrs; i++)
		tlsa_rr_clear(&rrs[i]);
	tsig_key_free(key);
	return rc == 0 ? 0 : 1;
}
