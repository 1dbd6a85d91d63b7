/*
 * cmd_retire.c -- `tlsactl retire [-n] [-s FILE] LINEAGE`: delete, one
 * record at a time and one RFC 2136 UPDATE per zone, the TLSA records that
 * match none of the chains the lineage still needs (its current
 * certificate, and the chain the MTA serves when -s FILE names it), then
 * confirm that no authoritative address and no validated answer still
 * holds them.
 *
 * Safety: nothing is written when a name does not validate secure now, when
 * the RRset would be left empty, or when the RRset as it will be breaks the
 * RFC 7671 section 8 rule for the chain the MTA serves (-s FILE, default the
 * lineage's current chain).  Deleting an absent record is a no-op.
 * Exit: 0 retired and confirmed (or nothing to retire); 1 failure; 2
 * refused by a safety rule; 3 confirmation timeout; 64 usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/cert.h"
#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/dane.h"
#include "tlsad/dnscheck.h"
#include "tlsad/error.h"
#include "tlsad/lineage.h"
#include "tlsad/log.h"
#include "tlsad/tsig.h"
#include "tlsad/util.h"

static const struct option retire_longopts[] = {
	{ "dry-run", no_argument, NULL, 'n' },
	{ "served", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
retire_usage(void)
{
	fprintf(stderr, "usage: tlsactl retire [-n | --dry-run] "
	    "[-s FILE | --served FILE] LINEAGE\n");
}

/* 1 when rr matches one of the needed chains, 0 if none, < 0 on error. */
static int
needed(const struct tlsa_rr *rr, const struct cert_chain *const *chains,
    size_t n)
{
	size_t	i;
	int	m;

	for (i = 0; i < n; i++) {
		if (chains[i] == NULL)
			continue;
		m = cert_tlsa_match(chains[i], rr);
		if (m != 0)
			return m;
	}
	return 0;
}

static int
refuse_if_insecure(const struct dnscheck_session *s)
{
	struct dnscheck_validated	*v;
	char				 why[512];
	size_t				 i;
	int				 rc, status = 0;

	v = calloc(s->plan->nnames, sizeof(*v));
	if (v == NULL)
		return TLSAD_ENOMEM;
	rc = dnscheck_validate(s->plan, &s->cfg, v, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: retire: validating lookup: %s\n", why);
		status = rc;
		goto out;
	}
	for (i = 0; i < s->plan->nnames; i++) {
		if (v[i].rc == 0)
			continue;
		fprintf(stderr, "tlsactl: retire: refused, nothing changed: "
		    "%s: %s%s%s\n", s->plan->names[i].owner,
		    tlsad_strerror(v[i].rc), v[i].why_bogus[0] != '\0' ?
		    ": " : "", v[i].why_bogus);
		if (status == 0 || v[i].rc == TLSAD_EDNSSEC_BOGUS)
			status = v[i].rc;
	}
out:
	for (i = 0; i < s->plan->nnames; i++)
		dnscheck_validated_clear(&v[i]);
	free(v);
	return status;
}

int
cmd_retire(const struct cmd_env *env, int argc, char *argv[])
{
	struct dnscheck_session		 s;
	struct dnscheck_applied		 done;
	struct dnscheck_expect		 exp;
	struct dnscheck_wait		 w;
	struct conf			*conf = NULL;
	struct cert_chain		*served_file = NULL;
	const struct cert_chain		*served, *chains[2];
	struct tsig_key			*key = NULL;
	struct tlsa_rrset		*primary = NULL, *after = NULL, *del = NULL;
	const struct tlsa_rrset		**delp = NULL;
	uint32_t			*min_serial = NULL;
	const char			*served_path = NULL;
	char				*errmsg = NULL, *text = NULL, why[1024];
	size_t				 i, k, n = 0, ndel = 0;
	int64_t				 t_sent;
	int				 rc, ch, m, dry_run = 0, status = 1;

	memset(&s, 0, sizeof(s));
	/* Progress lines interleave with the messages on stderr in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		ch = getopt_long(argc, argv, "hns:", retire_longopts, NULL);
		if (ch == -1)
			break;
		switch (ch) {
		case 'n':
			dry_run = 1;
			break;
		case 's':
			served_path = optarg;
			break;
		case 'h':
			retire_usage();
			return 0;
		default:
			retire_usage();
			return 64;
		}
	}
	if (argc - optind != 1) {
		retire_usage();
		return 64;
	}
	rc = conf_load(env->conf_path, &conf, &errmsg);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: %s\n", errmsg != NULL ? errmsg :
		    tlsad_strerror(rc));
		goto out;
	}
	rc = dnscheck_session_open(&s, conf, argv[optind], why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: retire: %s\n", why);
		status = dnscheck_exit_status(rc);
		goto out;
	}
	n = s.plan->nnames;
	for (i = 0; i < n; i++)
		if (s.plan->names[i].is_cname)
			printf("%s is a CNAME to %s (RFC 7671 section 7): "
			    "updating %s instead\n", s.plan->names[i].owner,
			    s.plan->names[i].target, s.plan->names[i].target);
	served = s.lineage->chain;
	if (served_path != NULL) {
		rc = cert_chain_load(served_path, &served_file);
		if (rc != 0) {
			fprintf(stderr, "tlsactl: retire: %s: %s\n",
			    served_path, tlsad_strerror(rc));
			goto out;
		}
		served = served_file;
	}
	chains[0] = s.lineage->chain;
	chains[1] = served_file;

	rc = refuse_if_insecure(&s);
	if (rc != 0) {
		status = dnscheck_exit_status(rc);
		goto out;
	}

	primary = calloc(n, sizeof(*primary));
	after = calloc(n, sizeof(*after));
	del = calloc(n, sizeof(*del));
	delp = calloc(n, sizeof(*delp));
	min_serial = calloc(s.plan->nzones, sizeof(*min_serial));
	if (primary == NULL || after == NULL || del == NULL || delp == NULL ||
	    min_serial == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		tlsa_rrset_init(&primary[i]);
		tlsa_rrset_init(&after[i]);
		tlsa_rrset_init(&del[i]);
		delp[i] = &del[i];
	}
	rc = dnscheck_primary_rrsets(s.plan, &s.cfg, primary, NULL, why,
	    sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: retire: %s\n", why);
		goto out;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < primary[i].n; k++) {
			m = needed(&primary[i].rr[k], chains, 2);
			if (m < 0) {
				rc = m;
				fprintf(stderr, "tlsactl: retire: %s: a record "
				    "does not parse: %s\n",
				    s.plan->names[i].target, tlsad_strerror(m));
				goto out;
			}
			rc = tlsa_rrset_add(m ? &after[i] : &del[i],
			    &primary[i].rr[k]);
			if (rc != 0)
				goto out;
			if (!dnscheck_same_target(s.plan, i) &&
			    tlsa_rr_format(&primary[i].rr[k], &text) == 0)
				printf("%s: %s %s\n", s.plan->names[i].target,
				    m ? "keep" : dry_run ? "would retire" :
				    "retire", text);
			free(text);
			text = NULL;
		}
		if (!dnscheck_same_target(s.plan, i))
			ndel += del[i].n;
		if (del[i].n == 0)
			continue;
		if (after[i].n == 0) {
			fprintf(stderr, "tlsactl: retire: refused, nothing "
			    "changed: %s: every record would go (none matches "
			    "the lineage's current certificate%s): publish "
			    "first\n", s.plan->names[i].target,
			    served_file != NULL ? " or the served chain" : "");
			rc = TLSAD_EDNS_EMPTYRRSET;
			status = dnscheck_exit_status(rc);
			goto out;
		}
		rc = dane_check_rfc7671(&after[i], served, why, sizeof(why));
		if (rc != 0) {
			fprintf(stderr, "tlsactl: retire: refused, nothing "
			    "changed: %s: %s\n", s.plan->names[i].target, why);
			status = dnscheck_exit_status(rc);
			goto out;
		}
	}
	if (ndel == 0)
		printf("nothing to retire\n");

	rc = dnscheck_load_key(conf, s.lin, &key, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: retire: %s\n", why);
		goto out;
	}

	t_sent = util_now_mono_ms();
	rc = dnscheck_apply(s.plan, &s.cfg, key, NULL, delp, primary, dry_run,
	    min_serial, &done, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: retire: %s\n", why);
		status = dnscheck_exit_status(rc);
		goto out;
	}
	printf("update: %s (%zu message%s)\n", done.summary, done.nsent,
	    done.nsent == 1 ? "" : "s");
	if (dry_run) {
		printf("dry run: nothing sent\n");
		status = 0;
		goto out;
	}
	memset(&exp, 0, sizeof(exp));
	exp.del = delp;
	exp.min_serial = min_serial;
	dnscheck_wait_init(&w, s.plan, &s.cfg, &exp, util_now_mono_ms(),
	    conf->poll_min_ms, conf->poll_max_ms, conf->propagation_timeout_s);
	rc = dnscheck_wait(&w);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: retire: %s: %s\n",
		    rc == TLSAD_ETIMEOUT ? "confirmation timeout" :
		    tlsad_strerror(rc), w.status);
		status = dnscheck_exit_status(rc);
		goto out;
	}
	printf("retired: no authoritative address and no validated answer "
	    "holds the retired records (%u check%s, %.2f s after the "
	    "update)\n", w.checks, w.checks == 1 ? "" : "s",
	    (double)(util_now_mono_ms() - t_sent) / 1000.0);
	status = 0;
out:
	if (s.plan != NULL)
		log_debug("%s: %lu DNS queries sent, %lu validating lookups",
		    "retire", s.nqueries, s.nvalidations);
	for (i = 0; i < n; i++) {
		if (primary != NULL)
			tlsa_rrset_clear(&primary[i]);
		if (after != NULL)
			tlsa_rrset_clear(&after[i]);
		if (del != NULL)
			tlsa_rrset_clear(&del[i]);
	}
	free(primary);
	free(after);
	free(del);
	free(delp);
	free(min_serial);
	tsig_key_free(key);
	cert_chain_free(served_file);
	dnscheck_session_close(&s);
	conf_free(conf);
	free(errmsg);
	return status;
}
