/*
 * cmd_dns.c -- `tlsactl dns LINEAGE`: what the DNS says about a lineage now.
 *
 * Read only: per authoritative address the SOA serial and the TLSA RRset
 * (with TTL) at every owner name; the validated answer (secure, insecure or
 * bogus) from a fresh libunbound context; and the hold a rollover started
 * now would need.  Records that match the lineage's current certificate
 * are marked "current".
 * Exit: 0 every address answers and agrees and every name validates
 * secure; 2 a name is bogus or insecure; 1 anything else (a server lags or
 * does not answer, a lookup fails, bad config or lineage); 64 usage.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/cmd.h"
#include "tlsad/conf.h"
#include "tlsad/dnscheck.h"
#include "tlsad/error.h"
#include "tlsad/hold.h"
#include "tlsad/lineage.h"
#include "tlsad/log.h"
#include "tlsad/util.h"

static void
dns_usage(void)
{
	fprintf(stderr, "usage: tlsactl dns LINEAGE\n");
}

/* Print every record of set, one per line, marking the current ones. */
static void
print_rrset(const char *indent, const struct tlsa_rrset *set,
    const struct tlsa_rrset *current)
{
	char	*text = NULL;
	size_t	 k;

	if (set->n == 0) {
		printf("%s(no TLSA records)\n", indent);
		return;
	}
	for (k = 0; k < set->n; k++) {
		if (tlsa_rr_format(&set->rr[k], &text) != 0)
			continue;
		printf("%s%s%s\n", indent, text,
		    tlsa_rrset_contains(current, &set->rr[k]) ? "  (current)" : "");
		free(text);
		text = NULL;
	}
}

int
cmd_dns(const struct cmd_env *env, int argc, char *argv[])
{
	struct dnscheck_session		 s;
	struct dnscheck_snapshot	 snap;
	struct dnscheck_validated	*v = NULL;
	struct hold_name		*hn = NULL;
	struct hold_params		 hp;
	struct hold_result		 hr;
	const struct dnscheck_plan	*plan;
	const struct dnscheck_zone	*z;
	const struct dnscheck_obs	*o;
	struct conf			*conf = NULL;
	struct tlsa_rrset		 u;
	char				*errmsg = NULL, why[1024], when[32];
	char				 hex[65];
	size_t				 i, j, zi;
	int				 rc, ch, agree, status = 0, worst = 0;

	memset(&s, 0, sizeof(s));
	memset(&snap, 0, sizeof(snap));
	tlsa_rrset_init(&u);
	/* Progress lines interleave with the messages on stderr in order. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	ch = getopt(argc, argv, "h");
	if (ch != -1) {
		dns_usage();
		return ch == 'h' ? 0 : 64;
	}
	if (argc - optind != 1) {
		dns_usage();
		return 64;
	}
	rc = conf_load(env->conf_path, &conf, &errmsg);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: %s\n", errmsg != NULL ? errmsg :
		    tlsad_strerror(rc));
		status = 1;
		goto out;
	}
	rc = dnscheck_session_open(&s, conf, argv[optind], why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "tlsactl: dns: %s\n", why);
		status = dnscheck_exit_status(rc);
		goto out;
	}
	plan = s.plan;
	util_hex(s.lineage->spki_sha256, 32, hex);
	printf("lineage %s: certificate %s, key (SPKI SHA-256) %.16s...\n",
	    s.lin->name, s.lineage->link[LINEAGE_CERT].target != NULL ?
	    s.lineage->link[LINEAGE_CERT].target : "?", hex);
	for (i = 0; i < plan->nnames; i++) {
		if (plan->names[i].is_cname)
			printf("name %s: a CNAME to %s (RFC 7671 section 7): "
			    "the records live at the target, zone %s\n",
			    plan->names[i].owner, plan->names[i].target,
			    plan->zones[plan->names[i].zone].apex);
		else
			printf("name %s: zone %s\n", plan->names[i].owner,
			    plan->zones[plan->names[i].zone].apex);
	}

	rc = dnscheck_observe(plan, &s.cfg, &snap);
	if (rc != 0) {
		fprintf(stderr, "tlsactl: dns: %s\n", tlsad_strerror(rc));
		status = 1;
		goto out;
	}
	for (zi = 0; zi < plan->nzones; zi++) {
		z = &plan->zones[zi];
		printf("zone %s: SOA TTL %" PRIu32 ", negative TTL %" PRIu32
		    ", update server %s@%u (%s), %zu authoritative address%s\n",
		    z->apex, z->soa_ttl, z->negttl, z->primary.host,
		    z->primary.port, z->primary.via, z->nauth,
		    z->nauth == 1 ? "" : "es");
		for (j = 0; j < snap.nobs; j++) {
			o = &snap.obs[j];
			if (o->zone != zi)
				continue;
			if (o->rc != 0) {
				printf("  %s@%u (%s): NO ANSWER: %s\n",
				    z->auth[o->addr].host, z->auth[o->addr].port,
				    z->auth[o->addr].via, o->err);
				status = 1;
				continue;
			}
			printf("  %s@%u (%s): serial %" PRIu32 "\n",
			    z->auth[o->addr].host, z->auth[o->addr].port,
			    z->auth[o->addr].via, o->serial);
			for (i = 0; i < plan->nnames; i++) {
				if (plan->names[i].zone != zi ||
				    dnscheck_same_target(plan, i))
					continue;
				if (o->rrset[i].n > 0)
					printf("    %s TTL %" PRIu32 "\n",
					    plan->names[i].target, o->ttl[i]);
				else
					printf("    %s\n", plan->names[i].target);
				print_rrset("      ", &o->rrset[i], &s.want);
			}
		}
	}
	for (i = 0; i < plan->nnames; i++) {
		tlsa_rrset_clear(&u);
		rc = dnscheck_rrset_union(&snap, i, &u, &agree);
		if (rc == 0 && !agree) {
			printf("DISAGREE: the addresses serve different RRsets at "
			    "%s (a change is propagating, or a server lags)\n",
			    plan->names[i].target);
			status = 1;
		}
	}

	v = calloc(plan->nnames, sizeof(*v));
	if (v == NULL) {
		status = 1;
		goto out;
	}
	rc = dnscheck_validate(plan, &s.cfg, v, why, sizeof(why));
	if (rc != 0) {
		printf("validation: FAILED: %s\n", why);
		status = 1;
	} else {
		for (i = 0; i < plan->nnames; i++) {
			printf("validation %s: %s", plan->names[i].owner,
			    v[i].rc == 0 ? "secure" :
			    v[i].rc == TLSAD_EDNSSEC_BOGUS ? "BOGUS" :
			    v[i].rc == TLSAD_EDNSSEC_INSECURE ? "INSECURE" :
			    "FAILED");
			if (v[i].rc == 0)
				printf(", %zu record%s, TTL %" PRIu32 "%s\n",
				    v[i].rrset.n, v[i].rrset.n == 1 ? "" : "s",
				    v[i].ttl, v[i].nxdomain ? " (NXDOMAIN)" : "");
			else
				printf(": %s%s%s\n", tlsad_strerror(v[i].rc),
				    v[i].why_bogus[0] != '\0' ? ": " : "",
				    v[i].why_bogus);
			if (v[i].rc == 0)
				print_rrset("  ", &v[i].rrset, &s.want);
			if (v[i].rc == TLSAD_EDNSSEC_BOGUS ||
			    v[i].rc == TLSAD_EDNSSEC_INSECURE)
				worst = 2;
			else if (v[i].rc != 0 && status == 0)
				status = 1;
		}
	}

	hn = calloc(plan->nnames, sizeof(*hn));
	if (hn == NULL) {
		status = 1;
		goto out;
	}
	dnscheck_hold_names(plan, &snap, hn);
	hp.multiplier = conf->ttl_multiplier;
	hp.margin_s = conf->hold_margin_s;
	rc = hold_compute(hn, plan->nnames, snap.wall_ms, &hp, &hr);
	if (rc == 0)
		printf("hold a rollover would need now: %lld s (until %s): %s\n",
		    (long long)((hr.until_ms - snap.wall_ms) / 1000),
		    hold_format_utc(hr.until_ms, when, sizeof(when)), hr.why);
	if (worst > status)
		status = worst;
out:
	if (v != NULL) {
		for (i = 0; s.plan != NULL && i < s.plan->nnames; i++)
			dnscheck_validated_clear(&v[i]);
		free(v);
	}
	free(hn);
	tlsa_rrset_clear(&u);
	dnscheck_snapshot_clear(&snap);
	dnscheck_session_close(&s);
	conf_free(conf);
	free(errmsg);
	return status;
}
