/*
 * cmd_publish.c -- `tlsactl publish [-n] [-s FILE] LINEAGE`: add the TLSA
 * records of the lineage's current certificate at every TLSA name, one
 * RFC 2136 UPDATE per zone, then wait until every authoritative address
 * serves them and a validating lookup returns them secure, and print the
 * hold (from the TTLs served before the change) after which the new
 * certificate may be deployed.
 *
 * Safety: nothing is written when a name does not validate secure now
 * (bogus or insecure), or when the RRset as it will be breaks the RFC 7671
 * section 8 rule for the chain the MTA serves (-s FILE, default the
 * lineage's current chain).  Adding a present record is a no-op.
 * Exit: 0 published, validated (and hold printed); 1 failure; 2 refused by
 * a safety rule; 3 propagation timeout; 64 usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/cert.h"
#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/dane.h"
#include "tlsad/dnscheck.h"
#include "tlsad/error.h"
#include "tlsad/hold.h"
#include "tlsad/lineage.h"
#include "tlsad/log.h"
#include "tlsad/tsig.h"
#include "tlsad/util.h"

static const struct option publish_longopts[] = {
	{ "dry-run", no_argument, NULL, 'n' },
	{ "served", required_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
publish_usage(void)
{
	fprintf(stderr, "usage: tlsactl publish [-n | --dry-run] "
	    "[-s FILE | --served FILE] LINEAGE\n");
}

static void
print_names(const struct dnscheck_plan *plan)
{
	const struct dnscheck_zone	*z;
	size_t				 i;

	for (i = 0; i < plan->nnames; i++) {
		z = &plan->zones[plan->names[i].zone];
		if (plan->names[i].is_cname)
			printf("%s is a CNAME to %s (RFC 7671 section 7): "
			    "updating %s in zone %s instead\n",
			    plan->names[i].owner, plan->names[i].target,
			    plan->names[i].target, z->apex);
		else
			printf("%s: zone %s\n", plan->names[i].owner, z->apex);
	}
	for (i = 0; i < plan->nzones; i++) {
		z = &plan->zones[i];
		printf("zone %s: update server %s@%u (%s), %zu authoritative "
		    "address%s\n", z->apex, z->primary.host, z->primary.port,
		    z->primary.via, z->nauth, z->nauth == 1 ? "" : "es");
	}
}

/*
 * Refuse (2) unless every name validates secure now; 1 when the lookups
 * themselves fail.  Prints the reason.
 */
static int
preflight(const struct dnscheck_session *s, const char *what)
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
		fprintf(stderr, "tlsactl: %s: validating lookup: %s\n", what,
		    why);
		status = rc;
		goto out;
	}
	for (i = 0; i < s->plan->nnames; i++) {
		if (v[i].rc == 0)
			continue;
		fprintf(stderr, "tlsactl: %s: refused, nothing changed: %s: "
		    "%s%s%s\n", what, s->plan->names[i].owner,
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
cmd_publish(const struct cmd_env *env, int argc, char *argv[])
{
	struct dnscheck_session		 s;
	struct dnscheck_snapshot	 before;
	struct dnscheck_applied		 done;
	struct dnscheck_expect		 exp;
	struct dnscheck_wait		 w;
	struct hold_params		 hp;
	struct hold_result		 hr;
	struct hold_name		*hn = NULL;
	struct conf			*conf = NULL;
	struct cert_chain		*served_file = NULL;
	const struct cert_chain		*served;
	struct tsig_key			*key = NULL;
	struct tlsa_rrset		*primary = NULL, *after = NULL;
	const struct tlsa_rrset		**addp = NULL;
	uint32_t			*min_serial = NULL;
	const char			*served_path = NULL;
	char				*errmsg = NULL, *text = NULL;
	char				 why[1024], when[32];
	size_t				 i, k, n = 0;
	int64_t				 t_sent = 0;
	int				 rc, ch, dry_run = 0, status = 1;

	memset(&s, 0, sizeof(s));
	memset(&before, 0, sizeof(before));
	/* Progress lines interleave with the messages on stderr in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		ch = getopt_long(argc, argv, "hns:", publish_longopts, NULL);
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
			publish_usage();
			return 0;
		default:
			publish_usage();
			return 64;
		}
	}
	if (argc - optind != 1) {
		publish_usage();
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
		fprintf(stderr, "tlsactl: publish: %s\n", why);
		status = dnscheck_exit_status(rc);
		goto out;
	}
	n = s.plan->nnames;
	print_names(s.plan);
	served = s.lineage->chain;
	if (served_path != NULL) {
		rc = cert_chain_load(served_path, &served_file);
		if (rc != 0) {
			fprintf(stderr, "tlsactl: publish: %s: %s\n",
			    served_path, tlsad_strerror(rc));
			goto out;
		}
		served = served_file;
	}

	/* DANE without DNSSEC is no DANE: change nothing on doubt. */
	rc = preflight(&s, "publish");
	if (rc != 0) {
		status = dnscheck_exit_status(rc);
		goto out;
	}

	primary = calloc(n, sizeof(*primary));
	after = calloc(n, sizeof(*after));
	addp = calloc(n, sizeof(*addp));
	min_serial = calloc(s.plan->nzones, sizeof(*min_serial));
	hn = calloc(n, sizeof(*hn));
	if (primary == NULL || after == NULL || addp == NULL ||
	    min_serial == NULL || hn == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		tlsa_rrset_init(&primary[i]);
		tlsa_rrset_init(&after[i]);
		addp[i] = &s.want;
	}
	rc = dnscheck_observe(s.plan, &s.cfg, &before);
	if (rc == 0)
		rc = dnscheck_primary_rrsets(s.plan, &s.cfg, primary, NULL, why,
		    sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: publish: %s\n", why[0] != '\0' ? why :
		    tlsad_strerror(rc));
		goto out;
	}
	for (i = 0; i < n; i++) {
		rc = tlsa_rrset_copy(&after[i], &primary[i]);
		for (k = 0; rc == 0 && k < s.want.n; k++)
			rc = tlsa_rrset_add(&after[i], &s.want.rr[k]);
		if (rc != 0)
			goto out;
		rc = dane_check_rfc7671(&after[i], served, why, sizeof(why));
		if (rc != 0) {
			fprintf(stderr, "tlsactl: publish: refused, nothing "
			    "changed: %s: %s\n", s.plan->names[i].target, why);
			status = dnscheck_exit_status(rc);
			goto out;
		}
		for (k = 0; k < s.want.n && !dnscheck_same_target(s.plan, i);
		    k++) {
			if (tlsa_rr_format(&s.want.rr[k], &text) != 0)
				continue;
			printf("%s: %s %s\n", s.plan->names[i].target,
			    tlsa_rrset_contains(&primary[i], &s.want.rr[k]) ?
			    "present" : dry_run ? "would add" : "add", text);
			free(text);
			text = NULL;
		}
	}

	rc = dnscheck_load_key(conf, s.lin, &key, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: publish: %s\n", why);
		goto out;
	}

	t_sent = util_now_mono_ms();
	rc = dnscheck_apply(s.plan, &s.cfg, key, addp, NULL, primary, dry_run,
	    min_serial, &done, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: publish: %s\n", why);
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
	exp.add = addp;
	exp.min_serial = min_serial;
	dnscheck_wait_init(&w, s.plan, &s.cfg, &exp, util_now_mono_ms(),
	    conf->poll_min_ms, conf->poll_max_ms, conf->propagation_timeout_s);
	rc = dnscheck_wait(&w);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: publish: %s: %s\n",
		    rc == TLSAD_ETIMEOUT ? "propagation timeout" :
		    tlsad_strerror(rc), w.status);
		status = dnscheck_exit_status(rc);
		goto out;
	}
	printf("propagated and validated: every authoritative address serves "
	    "the records and the validated answer is secure (%u check%s, "
	    "%.2f s after the update)\n", w.checks, w.checks == 1 ? "" : "s",
	    (double)(util_now_mono_ms() - t_sent) / 1000.0);

	dnscheck_hold_names(s.plan, &before, hn);
	hp.multiplier = conf->ttl_multiplier;
	hp.margin_s = conf->hold_margin_s;
	rc = hold_compute(hn, n, w.t0_wall_ms, &hp, &hr);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: publish: hold: %s\n",
		    tlsad_strerror(rc));
		goto out;
	}
	printf("hold until %s (%lld s from now): %s\n",
	    hold_format_utc(hr.until_ms, when, sizeof(when)),
	    (long long)((hold_remaining_ms(hr.until_ms, util_now_wall_ms()) +
	    999) / 1000), hr.why);
	status = 0;
out:
	if (s.plan != NULL)
		log_debug("%s: %lu DNS queries sent, %lu validating lookups",
		    "publish", s.nqueries, s.nvalidations);
	for (i = 0; i < n; i++) {
		if (primary != NULL)
			tlsa_rrset_clear(&primary[i]);
		if (after != NULL)
			tlsa_rrset_clear(&after[i]);
	}
	free(primary);
	free(after);
	free(addp);
	free(min_serial);
	free(hn);
	tsig_key_free(key);
	cert_chain_free(served_file);
	dnscheck_snapshot_clear(&before);
	dnscheck_session_close(&s);
	conf_free(conf);
	free(errmsg);
	return status;
}
