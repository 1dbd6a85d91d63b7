/*
 * test_dnsupdate.c -- UPDATE packet construction (prerequisites, single-
 * record deletes, TTLs), the RCODE and TSIG error mapping (BADSIG, BADKEY,
 * BADTIME with the clock offset), the admin sentences, the TLSA/SOA readers,
 * and the reply TSIG check against a fake server in a child process
 * (unsigned, wrongly signed and correctly signed replies).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "tlsad/dnsquery.h"
#include "tlsad/dnsupdate.h"
#include "tlsad/error.h"
#include "tlsad/log.h"
#include "tlsad/tlsa.h"
#include "tlsad/tsig.h"

static const char *const KEYTEXT =
    "key \"unit-key\" { algorithm hmac-sha256; "
    "secret \"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=\"; };";
static const char *const OTHERTEXT =
    "key \"unit-key\" { algorithm hmac-sha256; "
    "secret \"b3RoZXItb3RoZXItb3RoZXItb3RoZXItb3RoZXItMTI=\"; };";

static struct tsig_key *
key_from(const char *text)
{
	struct tsig_key	*k = NULL;
	char		 why[128];

	assert_int_equal(tsig_parse(text, strlen(text), NULL, &k, why, sizeof(why)), 0);
	return k;
}

static void
rr_fill(struct tlsa_rr *rr, uint8_t byte)
{
	uint8_t			d[32];
	struct tlsa_param	p = { 3, 1, 1 };

	memset(rr, 0, sizeof(*rr));
	memset(d, byte, sizeof(d));
	assert_int_equal(tlsa_rr_set(rr, p, d, sizeof(d)), 0);
}

static void
test_rcode_map(void **state)
{
	static const struct { int rcode, code; const char *name; } m[] = {
		{ 0, 0, "NOERROR" },
		{ 1, TLSAD_EDNS_FORMERR, "FORMERR" },
		{ 2, TLSAD_EDNS_SERVFAIL, "SERVFAIL" },
		{ 3, TLSAD_EDNS_NXDOMAIN, "NXDOMAIN" },
		{ 4, TLSAD_EDNS_NOTIMP, "NOTIMP" },
		{ 5, TLSAD_EDNS_REFUSED, "REFUSED" },
		{ 6, TLSAD_EDNS_YXDOMAIN, "YXDOMAIN" },
		{ 7, TLSAD_EDNS_YXRRSET, "YXRRSET" },
		{ 8, TLSAD_EDNS_NXRRSET, "NXRRSET" },
		{ 9, TLSAD_EDNS_NOTAUTH, "NOTAUTH" },
		{ 10, TLSAD_EDNS_NOTZONE, "NOTZONE" },
		{ 11, TLSAD_EDNS_RCODE, "RCODE?" },
		{ 15, TLSAD_EDNS_RCODE, "RCODE?" },
	};
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		assert_int_equal(dns_rcode_error(m[i].rcode), m[i].code);
		assert_string_equal(dns_rcode_name(m[i].rcode), m[i].name);
	}
	assert_string_equal(dns_rcode_name(-1), "RCODE?");
}

/* A reply carrying a TSIG RR with the given error and other data. */
static ldns_pkt *
reply_with_tsig(int rcode, uint16_t err, int64_t signed_at, const int64_t *other)
{
	struct tsig_key	*k = key_from(KEYTEXT);
	ldns_pkt	*p;
	ldns_rr		*t;
	uint8_t		 b[8];
	int		 i;

	p = ldns_pkt_new();
	assert_non_null(p);
	ldns_pkt_set_qr(p, true);
	ldns_pkt_set_opcode(p, LDNS_PACKET_UPDATE);
	ldns_pkt_set_rcode(p, (uint8_t)rcode);
	assert_int_equal(ldns_pkt_tsig_sign(p, k->name, k->secret_b64, 300,
	    k->algo_name, NULL), LDNS_STATUS_OK);
	t = ldns_pkt_tsig(p);
	assert_non_null(t);
	for (i = 0; i < 6; i++)
		b[i] = (uint8_t)(signed_at >> (8 * (5 - i)));
	ldns_rdf_deep_free(ldns_rr_set_rdf(t,
	    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_TSIGTIME, 6, b), 1));
	ldns_rdf_deep_free(ldns_rr_set_rdf(t,
	    ldns_native2rdf_int16(LDNS_RDF_TYPE_INT16, err), 5));
	if (other != NULL) {
		b[0] = 0;
		b[1] = 6;
		for (i = 0; i < 6; i++)
			b[2 + i] = (uint8_t)(*other >> (8 * (5 - i)));
		ldns_rdf_deep_free(ldns_rr_set_rdf(t,
		    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, 8, b), 6));
	}
	tsig_key_free(k);
	return p;
}

static void
test_tsig_error_map(void **state)
{
	struct dnsupdate_result	 res;
	ldns_pkt		*p;
	int64_t			 now = 1700000000, server = 1700000000 + 4000;
	char			 msg[512];

	(void)state;
	memset(&res, 0, sizeof(res));
	p = reply_with_tsig(LDNS_RCODE_NOTAUTH, 16, now, NULL);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_ETSIG_BADSIG);
	assert_int_equal(res.rcode, 9);
	assert_int_equal(res.tsig_error, 16);
	ldns_pkt_free(p);

	p = reply_with_tsig(LDNS_RCODE_NOTAUTH, 17, now, NULL);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_ETSIG_BADKEY);
	ldns_pkt_free(p);

	p = reply_with_tsig(LDNS_RCODE_NOTAUTH, 22, now, NULL);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_ETSIG_BADTRUNC);
	ldns_pkt_free(p);

	/* BADTIME: the server's time from Other Data. */
	p = reply_with_tsig(LDNS_RCODE_NOTAUTH, 18, now, &server);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_ETSIG_BADTIME);
	assert_int_equal(res.has_offset, 1);
	assert_int_equal(res.clock_offset_s, 4000);
	dnsupdate_explain(TLSAD_ETSIG_BADTIME, "z.example.", "192.0.2.1", 53,
	    "k.", &res, msg, sizeof(msg));
	assert_non_null(strstr(msg, "4000 s ahead of ours"));
	ldns_pkt_free(p);

	/* BADTIME without Other Data: Time Signed, here behind us. */
	p = reply_with_tsig(LDNS_RCODE_NOTAUTH, 18, now - 700, NULL);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_ETSIG_BADTIME);
	assert_int_equal(res.clock_offset_s, -700);
	dnsupdate_explain(TLSAD_ETSIG_BADTIME, "z.example.", "192.0.2.1", 53,
	    "k.", &res, msg, sizeof(msg));
	assert_non_null(strstr(msg, "700 s behind ours"));
	ldns_pkt_free(p);

	/* No TSIG error: the RCODE decides. */
	p = reply_with_tsig(LDNS_RCODE_NXRRSET, 0, now, NULL);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_EDNS_NXRRSET);
	assert_int_equal(res.tsig_error, 0);
	ldns_pkt_free(p);
	p = reply_with_tsig(LDNS_RCODE_NOERROR, 0, now, NULL);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), 0);
	ldns_pkt_free(p);
	/* And without any TSIG RR. */
	p = ldns_pkt_new();
	ldns_pkt_set_rcode(p, LDNS_RCODE_REFUSED);
	assert_int_equal(dnsupdate_map_reply(p, now, &res), TLSAD_EDNS_REFUSED);
	ldns_pkt_free(p);
}

static void
test_explain(void **state)
{
	static const struct { int code; const char *want; } m[] = {
		{ TLSAD_EDNS_REFUSED, "not allowed to update" },
		{ TLSAD_EDNS_REFUSED, "check update-policy" },
		{ TLSAD_EDNS_NOTAUTH, "not the primary" },
		{ TLSAD_EDNS_NOTZONE, "not inside zone z.example." },
		{ TLSAD_EDNS_YXRRSET, "YXRRSET: the prerequisite failed: someone else changed" },
		{ TLSAD_EDNS_NXRRSET, "NXRRSET: the prerequisite failed" },
		{ TLSAD_EDNS_SERVFAIL, "SERVFAIL" },
		{ TLSAD_ETSIG_BADSIG, "BADSIG" },
		{ TLSAD_ETSIG_BADKEY, "does not know key k." },
		{ TLSAD_ETSIG_REPLY, "cannot be trusted" },
		{ TLSAD_EDNS_CONNREFUSED, "connection refused by 192.0.2.1 port 53" },
		{ TLSAD_EDNS_TIMEOUT, "no answer from 192.0.2.1 port 53" },
		{ TLSAD_EDNS_NETWORK, "failed" },
	};
	char	msg[512];
	size_t	i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		dnsupdate_explain(m[i].code, "z.example.", "192.0.2.1", 53, "k.", NULL,
		    msg, sizeof(msg));
		if (strstr(msg, m[i].want) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", tlsad_errname(m[i].code), msg,
			    m[i].want);
	}
	/* Truncation is safe. */
	dnsupdate_explain(TLSAD_EDNS_REFUSED, "z.", "a", 1, "k", NULL, msg, 8);
	assert_int_equal(strlen(msg), 7);
}

static void
test_build(void **state)
{
	struct tlsa_rr		 r1, r2, r3;
	struct tlsa_rrset	 seen;
	struct dnsupdate_prereq	 pre[2];
	struct dnsupdate_op	 ops[3];
	const ldns_rr_list	*pl, *ul;
	const ldns_rr		*rr;
	ldns_pkt		*p = NULL;
	char			*s;

	(void)state;
	rr_fill(&r1, 0xaa);
	rr_fill(&r2, 0xbb);
	rr_fill(&r3, 0xcc);
	tlsa_rrset_init(&seen);
	assert_int_equal(tlsa_rrset_add(&seen, &r1), 0);
	assert_int_equal(tlsa_rrset_add(&seen, &r2), 0);
	pre[0] = (struct dnsupdate_prereq){ "_25._tcp.a.z.example.", 1, &seen };
	pre[1] = (struct dnsupdate_prereq){ "_25._tcp.b.z.example.", 0, NULL };
	ops[0] = (struct dnsupdate_op){ "_25._tcp.a.z.example.", 1, &r3, 0 };
	ops[1] = (struct dnsupdate_op){ "_25._tcp.a.z.example.", 0, &r1, 0 };
	ops[2] = (struct dnsupdate_op){ "_25._tcp.b.z.example.", 1, &r3, 77 };
	assert_int_equal(dnsupdate_build("z.example.", pre, 2, ops, 3, 300, &p), 0);
	assert_int_equal(ldns_pkt_get_opcode(p), LDNS_PACKET_UPDATE);
	/* Zone section: z.example. SOA. */
	rr = ldns_rr_list_rr(ldns_pkt_question(p), 0);
	s = ldns_rdf2str(ldns_rr_owner(rr));
	assert_string_equal(s, "z.example.");
	free(s);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_SOA);
	/* Prerequisites: value-dependent (class IN, TTL 0) x2, then NONE. */
	pl = ldns_pkt_answer(p);
	assert_int_equal(ldns_rr_list_rr_count(pl), 3);
	rr = ldns_rr_list_rr(pl, 0);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	assert_int_equal(ldns_rr_rd_count(rr), 4);
	rr = ldns_rr_list_rr(pl, 2);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_NONE);
	assert_int_equal(ldns_rr_get_type(rr), LDNS_RR_TYPE_TLSA);
	assert_int_equal(ldns_rr_rd_count(rr), 0);
	/* Updates: add (IN, default TTL), delete one RR (NONE, TTL 0, rdata), add TTL 77. */
	ul = ldns_pkt_authority(p);
	assert_int_equal(ldns_rr_list_rr_count(ul), 3);
	rr = ldns_rr_list_rr(ul, 0);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_IN);
	assert_int_equal(ldns_rr_ttl(rr), 300);
	rr = ldns_rr_list_rr(ul, 1);
	assert_int_equal(ldns_rr_get_class(rr), LDNS_RR_CLASS_NONE);
	assert_int_equal(ldns_rr_ttl(rr), 0);
	assert_int_equal(ldns_rr_rd_count(rr), 4);
	assert_int_equal(ldns_rdf_data(ldns_rr_rdf(rr, 3))[0], 0xaa);
	rr = ldns_rr_list_rr(ul, 2);
	assert_int_equal(ldns_rr_ttl(rr), 77);
	/* Never a whole-RRset delete (class ANY) anywhere. */
	for (size_t i = 0; i < 3; i++)
		assert_int_not_equal(ldns_rr_get_class(ldns_rr_list_rr(ul, i)),
		    LDNS_RR_CLASS_ANY);
	ldns_pkt_free(p);
	p = NULL;
	assert_int_equal(dnsupdate_build("bad..name", NULL, 0, NULL, 0, 300, &p),
	    TLSAD_EINVAL);
	assert_null(p);
	tlsa_rrset_clear(&seen);
	tlsa_rr_clear(&r1);
	tlsa_rr_clear(&r2);
	tlsa_rr_clear(&r3);
}

static void
test_readers(void **state)
{
	ldns_pkt		*p = NULL;
	ldns_rr			*rr = NULL;
	struct tlsa_rrset	 set;
	struct dns_soa		 soa;
	struct tlsa_rr		 r1, back;
	uint32_t		 ttl = 1;

	(void)state;
	tlsa_rrset_init(&set);
	p = ldns_pkt_new();
	rr_fill(&r1, 0x5a);
	assert_int_equal(dns_tlsa_to_rr("_25._tcp.mx.z.example.", 30, &r1, &rr), 0);
	memset(&back, 0, sizeof(back));
	assert_int_equal(dns_rr_to_tlsa(rr, &back), 0);
	assert_true(tlsa_rr_equal(&r1, &back));
	tlsa_rr_clear(&back);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	assert_int_equal(ldns_rr_new_frm_str(&rr, "_25._tcp.mx.z.example. 20 IN TLSA "
	    "3 1 1 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
	    0, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	/* Another owner: not ours. */
	assert_int_equal(ldns_rr_new_frm_str(&rr, "_25._tcp.other.z.example. 5 IN TLSA "
	    "3 1 1 0102", 0, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, rr);
	assert_int_equal(ldns_rr_new_frm_str(&rr, "z.example. 60 IN SOA ns1.z.example. "
	    "h.z.example. 42 2 1 600 7", 0, NULL, NULL), LDNS_STATUS_OK);
	ldns_pkt_push_rr(p, LDNS_SECTION_AUTHORITY, rr);
	assert_int_equal(dns_pkt_tlsa(p, "_25._TCP.MX.z.example.", &set, &ttl), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(ttl, 20);
	assert_true(tlsa_rrset_contains(&set, &r1));
	assert_int_equal(dns_pkt_soa(p, &soa), 0);
	assert_int_equal(soa.serial, 42);
	assert_int_equal(soa.minimum, 7);
	assert_int_equal(soa.ttl, 60);
	assert_int_equal(soa.negttl, 7);
	assert_int_equal(soa.in_answer, 0);
	assert_string_equal(soa.mname, "ns1.z.example.");
	assert_string_equal(soa.owner, "z.example.");
	ldns_pkt_free(p);
	p = ldns_pkt_new();
	assert_int_equal(dns_pkt_soa(p, &soa), TLSAD_EDNS_BADREPLY);
	tlsa_rrset_clear(&set);
	assert_int_equal(dns_pkt_tlsa(p, "x.z.example.", &set, &ttl), 0);
	assert_int_equal(set.n, 0);
	assert_int_equal(ttl, 0);
	ldns_pkt_free(p);
	tlsa_rr_clear(&r1);
}

/*
 * A fake primary in a child process: answers one UPDATE over TCP with
 * NOERROR, its TSIG made according to mode.
 */
enum fake_mode { FAKE_UNSIGNED, FAKE_WRONGKEY, FAKE_GOOD, FAKE_SILENT };

static void
fake_server(int lfd, enum fake_mode mode)
{
	struct tsig_key	*k;
	ldns_pkt	*req = NULL;
	ldns_rdf	*mac;
	uint8_t		 hdr[2], buf[65535], *wire = NULL;
	size_t		 len, wlen = 0;
	int		 fd;

	fd = accept(lfd, NULL, NULL);
	if (fd == -1 || read(fd, hdr, 2) != 2)
		_exit(1);
	len = ((size_t)hdr[0] << 8) | hdr[1];
	if (recv(fd, buf, len, MSG_WAITALL) != (ssize_t)len)
		_exit(1);
	if (mode == FAKE_SILENT) {
		sleep(3);
		_exit(0);
	}
	if (ldns_wire2pkt(&req, buf, len) != LDNS_STATUS_OK || ldns_pkt_tsig(req) == NULL)
		_exit(1);
	mac = ldns_rdf_clone(ldns_rr_rdf(ldns_pkt_tsig(req), 3));
	ldns_rr_free(ldns_pkt_tsig(req));
	ldns_pkt_set_tsig(req, NULL);
	ldns_pkt_set_qr(req, true);
	ldns_pkt_set_rcode(req, LDNS_RCODE_NOERROR);
	if (mode != FAKE_UNSIGNED) {
		k = key_from(mode == FAKE_GOOD ? KEYTEXT : OTHERTEXT);
		if (ldns_pkt_tsig_sign(req, k->name, k->secret_b64, 300, k->algo_name,
		    mac) != LDNS_STATUS_OK)
			_exit(1);
		tsig_key_free(k);
	}
	if (ldns_pkt2wire(&wire, req, &wlen) != LDNS_STATUS_OK)
		_exit(1);
	hdr[0] = (uint8_t)(wlen >> 8);
	hdr[1] = (uint8_t)wlen;
	if (write(fd, hdr, 2) != 2 || write(fd, wire, wlen) != (ssize_t)wlen)
		_exit(1);
	close(fd);
	_exit(0);
}

static int
run_against_fake(enum fake_mode mode, struct dnsupdate_result *res)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct tsig_key		*k = key_from(KEYTEXT);
	struct dnsupdate_opts	 opts;
	struct dnsupdate_op	 op;
	struct tlsa_rr		 r;
	pid_t			 pid;
	int			 lfd, rc, st;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &slen), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fake_server(lfd, mode);
	close(lfd);
	rr_fill(&r, 0x11);
	op = (struct dnsupdate_op){ "_25._tcp.mx.z.example.", 1, &r, 0 };
	memset(&opts, 0, sizeof(opts));
	opts.server = "127.0.0.1";
	opts.port = ntohs(sin.sin_port);
	opts.timeout_ms = 1000;
	opts.quiet = 1;
	rc = dnsupdate_send("z.example.", k, NULL, 0, &op, 1, 60, &opts, res);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	tlsa_rr_clear(&r);
	tsig_key_free(k);
	return rc;
}

/*
 * A UDP server that answers every query with an authoritative reply holding
 * one TLSA 3 1 1 record of bytes b at _25._tcp.mx.z.example. (until killed).
 */
static void
fake_tlsa_server(int fd, uint8_t b)
{
	struct sockaddr_storage	 from;
	socklen_t		 flen;
	ldns_pkt		*q;
	ldns_rr			*rr;
	uint8_t			 buf[4096], *wire;
	char			 text[256];
	size_t			 wlen, len;
	ssize_t			 n;
	int			 i;

	len = (size_t)snprintf(text, sizeof(text),
	    "_25._tcp.mx.z.example. 300 IN TLSA 3 1 1 ");
	for (i = 0; i < 32; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%02x", b);
	for (;;) {
		flen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
		    &flen);
		if (n <= 0)
			_exit(1);
		q = NULL;
		rr = NULL;
		wire = NULL;
		if (ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK ||
		    ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) !=
		    LDNS_STATUS_OK)
			_exit(1);
		ldns_pkt_set_qr(q, true);
		ldns_pkt_set_aa(q, true);
		ldns_pkt_set_rcode(q, LDNS_RCODE_NOERROR);
		ldns_pkt_push_rr(q, LDNS_SECTION_ANSWER, rr);
		if (ldns_pkt2wire(&wire, q, &wlen) != LDNS_STATUS_OK)
			_exit(1);
		(void)sendto(fd, wire, wlen, 0, (struct sockaddr *)&from, flen);
		free(wire);
		ldns_pkt_free(q);
	}
}

/* A change checked on another RRset than the primary serves is not sent. */
static void
test_apply_expect(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	struct tsig_key		*k = key_from(KEYTEXT);
	struct dnsupdate_opts	 opts;
	struct dnsupdate_result	 res[3];
	struct dnsupdate_change	 ch;
	struct tlsa_rrset	 served, other;
	struct tlsa_rr		 r;
	pid_t			 pid;
	int			 fd, st, rc[3];

	(void)state;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		fake_tlsa_server(fd, 0x22);
	close(fd);

	tlsa_rrset_init(&served);
	tlsa_rrset_init(&other);
	rr_fill(&r, 0x22);
	assert_int_equal(tlsa_rrset_add(&served, &r), 0);
	tlsa_rr_clear(&r);
	rr_fill(&r, 0x11);
	assert_int_equal(tlsa_rrset_add(&other, &r), 0);
	tlsa_rr_clear(&r);
	memset(&opts, 0, sizeof(opts));
	opts.server = "127.0.0.1";
	opts.port = ntohs(sin.sin_port);
	opts.timeout_ms = 1000;
	opts.quiet = 1;
	memset(&ch, 0, sizeof(ch));
	ch.owner = "_25._tcp.mx.z.example.";
	ch.add = &served;	/* present already: a no-op once the read is trusted */

	/* Checked on {0x11}, the primary serves {0x22}: refused, nothing sent. */
	ch.expect = &other;
	rc[0] = dnsupdate_apply("z.example.", k, &ch, 1, &opts, &res[0]);
	/* Checked on the set served: on to the diff (nothing to change). */
	ch.expect = &served;
	rc[1] = dnsupdate_apply("z.example.", k, &ch, 1, &opts, &res[1]);
	/* No expectation: as before. */
	ch.expect = NULL;
	rc[2] = dnsupdate_apply("z.example.", k, &ch, 1, &opts, &res[2]);
	/* Stop the server before any assertion can leave it running. */
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	tlsa_rrset_clear(&served);
	tlsa_rrset_clear(&other);
	tsig_key_free(k);

	assert_int_equal(rc[0], TLSAD_EDNS_NXRRSET);
	assert_int_equal(res[0].sent, 0);
	assert_non_null(strstr(res[0].msg, "changed since it was checked"));
	assert_int_equal(rc[1], 0);
	assert_int_equal(res[1].sent, 0);
	assert_non_null(strstr(res[1].msg, "nothing to change"));
	assert_int_equal(rc[2], 0);
}

static void
test_reply_tsig(void **state)
{
	struct dnsupdate_result	res;

	(void)state;
	assert_int_equal(run_against_fake(FAKE_UNSIGNED, &res), TLSAD_ETSIG_REPLY);
	assert_non_null(strstr(res.msg, "cannot be trusted"));
	assert_int_equal(run_against_fake(FAKE_WRONGKEY, &res), TLSAD_ETSIG_REPLY);
	assert_int_equal(run_against_fake(FAKE_GOOD, &res), 0);
	assert_int_equal(res.sent, 1);
	assert_int_equal(res.nadd, 1);
	assert_int_equal(res.rcode, 0);
	assert_int_equal(run_against_fake(FAKE_SILENT, &res), TLSAD_EDNS_TIMEOUT);
}

static void
test_transport_errors(void **state)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof(sin);
	ldns_pkt		*p = NULL;
	int			 fd;
	uint16_t		 port;

	(void)state;
	/* A port nobody listens on: bind then close to find one. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	assert_int_equal(dns_query("127.0.0.1", port, "z.example.", LDNS_RR_TYPE_SOA,
	    0, 500, &p), TLSAD_EDNS_CONNREFUSED);
	assert_null(p);
	assert_int_equal(dns_query("not-an-address", 53, "z.example.",
	    LDNS_RR_TYPE_SOA, 0, 500, &p), TLSAD_EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcode_map),
		cmocka_unit_test(test_tsig_error_map),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_readers),
		cmocka_unit_test(test_reply_tsig),
		cmocka_unit_test(test_apply_expect),
		cmocka_unit_test(test_transport_errors),
	};

	log_init("test_dnsupdate", LOG_LEVEL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
