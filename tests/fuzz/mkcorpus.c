/*
 * mkcorpus.c -- write the generated fuzz seeds: state files made with
 * state_format, control frames made with ctl_frame_encode (after the chunk
 * seed byte fuzz_ctl reads first), and DNS replies built with ldns.
 * usage: fuzz_mkcorpus DIR   (writes DIR/state/, DIR/ctl/, DIR/dns/;
 * the directories must exist).  The output is committed in corpus/; run
 * this only to remake those seeds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "tlsad/ctl.h"
#include "tlsad/error.h"
#include "tlsad/rollover.h"
#include "tlsad/state.h"

#define T0	1764297000123LL

static const char	*outdir;
static int		 failed;

static void
put(const char *sub, const char *name, const void *data, size_t len)
{
	char	 path[4096];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "%s: cannot write\n", path);
		failed = 1;
	}
}

static struct rollover_key
mkkey(unsigned n)
{
	struct rollover_key	k;
	size_t			i;

	for (i = 0; i < ROLLOVER_KEY_LEN; i++)
		k.spki[i] = (uint8_t)(n * 29 + i * 7);
	return k;
}

static void
put_state(const char *file, const char *name, const struct rollover_state *st)
{
	char	*text = NULL;
	size_t	 len = 0;

	if (state_format(name, st, &text, &len) != 0) {
		fprintf(stderr, "%s: state_format failed\n", file);
		failed = 1;
		return;
	}
	put("state", file, text, len);
	free(text);
}

static void
make_states(void)
{
	struct rollover_state	st;
	struct rollover_key	a = mkkey(1), b = mkkey(2), c = mkkey(3);

	rollover_state_init(&st);
	put_state("gen-fresh", "mx.example.org", &st);

	/* Idle with one deployed key. */
	st.has_live = st.has_deployed = 1;
	st.live = st.deployed = a;
	st.live_version = st.deployed_version = 3;
	(void)rollover_keyset_add(&st.published, &a);
	st.stage_since = T0;
	st.last_success = T0 - 86400000LL;
	put_state("gen-idle", "mx.example.org", &st);

	/* In the middle of a hold, with a foreign key to retire. */
	st.stage = ROLLOVER_HOLD;
	st.live = b;
	st.live_version = 4;
	st.has_target = 1;
	st.target = b;
	st.target_version = 4;
	(void)rollover_keyset_add(&st.published, &b);
	(void)rollover_keyset_add(&st.published, &c);
	st.t0 = T0 + 1;
	st.hold_until = T0 + 660001;
	st.hold_ttl = 300;
	st.validated_at = T0 + 1;
	st.next_attempt = T0 + 999;
	st.deadline = T0 + 4260001;
	st.polls = 4;
	put_state("gen-hold", "smtp-1.example", &st);

	/* A failure waiting for its retry. */
	st.stage = ROLLOVER_FAILED;
	st.retry_stage = ROLLOVER_PUBLISH;
	st.t0 = st.hold_until = st.validated_at = 0;
	st.failures = 3;
	st.last_error = TLSAD_EDNS_REFUSED;
	st.last_error_at = T0 - 5000;
	snprintf(st.last_message, sizeof(st.last_message),
	    "the key is not allowed to update _25._tcp.mx.example.org.");
	put_state("gen-failed", "mx", &st);
}

static void
put_frames(const char *file, uint8_t seed, const char *const *texts,
    size_t n)
{
	uint8_t	 buf[8192], *frame = NULL;
	size_t	 len = 1, flen, i;

	buf[0] = seed;
	for (i = 0; i < n; i++) {
		if (ctl_frame_encode(texts[i], strlen(texts[i]), &frame,
		    &flen) != 0 || len + flen > sizeof(buf)) {
			fprintf(stderr, "%s: cannot encode\n", file);
			failed = 1;
			free(frame);
			return;
		}
		memcpy(buf + len, frame, flen);
		len += flen;
		free(frame);
		frame = NULL;
	}
	put("ctl", file, buf, len);
}

static void
make_frames(void)
{
	static const char *const ping[] = { "ping\n" };
	static const char *const status[] = { "status", "status mx.example.org\n" };
	static const char *const kick[] = {
		"kick /etc/letsencrypt/live/mx.example.org/",
		"kick mx.example.org", "kick ..", "rescan\n", "reload" };
	static const char *const bad[] = { "status ", "kick", "ping x", "Ping",
		"kick a\tb", "kick\n\n", "nosuchverb arg" };
	static const char *const ok[] = { "OK\n", "OK\n{\"schema\":1,"
		"\"lineages\":[{\"name\":\"mx.example.org\",\"stage\":\"idle\"}]}\n" };
	static const char *const err[] = {
		"ERR -1404 DNS_REFUSED\nthe key is not allowed to update\n",
		"ERR -1 EPERM\n", "ERR - X\n", "ERR -0 OK\n",
		"ERR -99999999999999999 BIG\n", "ERR 5 POSITIVE\n", "OK" };
	static const uint8_t zero[] = { 7, 0, 0, 0, 0 };
	static const uint8_t toobig[] = { 1, 0, 1, 0, 1, 'p' };
	static const uint8_t nul[] = { 3, 0, 0, 0, 5, 'p', 'i', 0, 'g', '\n' };
	static const uint8_t partial[] = { 0, 0, 0, 0, 9, 's', 't', 'a' };

	put_frames("gen-ping", 0, ping, 1);
	put_frames("gen-status", 1, status, 2);
	put_frames("gen-kick", 2, kick, 5);
	put_frames("gen-bad-requests", 3, bad, 7);
	put_frames("gen-ok", 4, ok, 2);
	put_frames("gen-err", 5, err, 7);
	put("ctl", "gen-zero-length", zero, sizeof(zero));
	put("ctl", "gen-too-big", toobig, sizeof(toobig));
	put("ctl", "gen-nul", nul, sizeof(nul));
	put("ctl", "gen-partial", partial, sizeof(partial));
}

static ldns_rr *
rr(const char *s)
{
	ldns_rr	*r = NULL;

	if (ldns_rr_new_frm_str(&r, s, 3600, NULL, NULL) != LDNS_STATUS_OK) {
		fprintf(stderr, "cannot parse RR: %s\n", s);
		exit(1);
	}
	return r;
}

static ldns_pkt *
reply(const char *qname, ldns_rr_type qtype, ldns_pkt_rcode rcode)
{
	ldns_pkt	*p;

	p = ldns_pkt_query_new(ldns_dname_new_frm_str(qname), qtype,
	    LDNS_RR_CLASS_IN, 0);
	if (p == NULL)
		exit(1);
	ldns_pkt_set_id(p, 4660);
	ldns_pkt_set_qr(p, 1);
	ldns_pkt_set_aa(p, 1);
	ldns_pkt_set_rcode(p, rcode);
	return p;
}

static void
put_pkt(const char *file, ldns_pkt *p)
{
	uint8_t	*wire = NULL;
	size_t	 len = 0;

	if (ldns_pkt2wire(&wire, p, &len) != LDNS_STATUS_OK) {
		fprintf(stderr, "%s: cannot encode\n", file);
		failed = 1;
	} else
		put("dns", file, wire, len);
	free(wire);
	ldns_pkt_free(p);
}

/* A TSIG RR with error err and other data (6 bytes of server time) or none. */
static ldns_rr *
tsig_rr(uint16_t err, int with_other)
{
	static const uint8_t	signed_at[6] = { 0, 0, 0x69, 0x29, 0x0a, 0x28 };
	static const uint8_t	other[8] = { 0, 6, 0, 0, 0x69, 0x29, 0x0b, 0x00 };
	static const uint8_t	empty[2] = { 0, 0 };
	uint8_t			mac[34];
	ldns_rr			*t = ldns_rr_new();

	memset(mac, 0xab, sizeof(mac));
	mac[0] = 0;
	mac[1] = 32;
	ldns_rr_set_owner(t, ldns_dname_new_frm_str("update.example."));
	ldns_rr_set_type(t, LDNS_RR_TYPE_TSIG);
	ldns_rr_set_class(t, LDNS_RR_CLASS_ANY);
	ldns_rr_set_ttl(t, 0);
	ldns_rr_push_rdf(t, ldns_dname_new_frm_str("hmac-sha256."));
	ldns_rr_push_rdf(t, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME, 6,
	    signed_at));
	ldns_rr_push_rdf(t, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 300));
	ldns_rr_push_rdf(t, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA,
	    err == 0 ? sizeof(mac) : 2, err == 0 ? mac : empty));
	ldns_rr_push_rdf(t, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, 4660));
	ldns_rr_push_rdf(t, ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, err));
	ldns_rr_push_rdf(t, ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA,
	    with_other ? sizeof(other) : 2, with_other ? other : empty));
	return t;
}

static void
make_replies(void)
{
	const char	*q = "_25._tcp.mx.example.org.";
	ldns_pkt	*p;

	p = reply(q, LDNS_RR_TYPE_TLSA, LDNS_RCODE_NOERROR);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("_25._tcp.mx.example.org. "
	    "300 IN TLSA 3 1 1 0d0e0f101112131415161718191a1b1c1d1e1f20"
	    "2122232425262728292a2b2c"));
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("_25._tcp.mx.example.org. "
	    "120 IN TLSA 3 1 1 a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"
	    "b8b9babbbcbdbebf"));
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("_25._tcp.MX.example.org. "
	    "300 IN TLSA 2 0 2 " "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff"));
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("_25._tcp.mx.example.org. "
	    "300 IN RRSIG TLSA 13 5 300 20261228000000 20261128000000 12345 "
	    "example.org. c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl"));
	put_pkt("gen-tlsa-answer", p);

	p = reply(q, LDNS_RR_TYPE_TLSA, LDNS_RCODE_NOERROR);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("_25._tcp.mx.example.org. "
	    "300 IN TLSA 3 1 1 00"));
	put_pkt("gen-tlsa-short-digest", p);

	p = reply(q, LDNS_RR_TYPE_TLSA, LDNS_RCODE_NXDOMAIN);
	ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr("example.org. 3600 IN SOA "
	    "ns1.example.org. hostmaster.example.org. 2026112801 7200 900 "
	    "1209600 300"));
	put_pkt("gen-nxdomain-soa", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("example.org. 60 IN SOA "
	    "ns1.example.org. hostmaster.example.org. 4294967295 7200 900 "
	    "1209600 86400"));
	ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr("example.org. 3600 IN NS "
	    "ns1.example.org."));
	ldns_pkt_push_rr(p, LDNS_SECTION_ADDITIONAL, rr("ns1.example.org. 3600 IN "
	    "A 127.0.0.53"));
	put_pkt("gen-soa-answer", p);

	p = reply(q, LDNS_RR_TYPE_TLSA, LDNS_RCODE_NOERROR);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr("_25._tcp.mx.example.org. "
	    "300 IN CNAME tlsa.example.net."));
	put_pkt("gen-cname", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_REFUSED);
	put_pkt("gen-refused", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOERROR);
	ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
	ldns_pkt_set_tsig(p, tsig_rr(0, 0));
	put_pkt("gen-update-ok-tsig", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOTAUTH);
	ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
	ldns_pkt_set_tsig(p, tsig_rr(16, 0));
	put_pkt("gen-update-badsig", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOTAUTH);
	ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
	ldns_pkt_set_tsig(p, tsig_rr(18, 1));
	put_pkt("gen-update-badtime", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOTAUTH);
	ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
	ldns_pkt_set_tsig(p, tsig_rr(18, 0));
	put_pkt("gen-update-badtime-signed", p);

	p = reply("example.org.", LDNS_RR_TYPE_SOA, LDNS_RCODE_NOTAUTH);
	ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
	ldns_pkt_set_tsig(p, tsig_rr(17, 0));
	put_pkt("gen-update-badkey", p);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_mkcorpus DIR\n");
		return 2;
	}
	outdir = argv[1];
	make_states();
	make_frames();
	make_replies();
	return failed;
}
