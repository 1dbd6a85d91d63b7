/*
 * test_cert.c -- certificate chains and keys: TLSA data against the golden
 * values the OpenSSL command line computed (tests/data/certs/golden.txt),
 * every kind of bad input, key loading and matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tlsad/cert.h"
#include "tlsad/error.h"
#include "tlsad/tlsa.h"
#include "tlsad/util.h"

#define CERTS	TLSAD_TEST_DATA "/certs/"

static const char *const types[] = {
	"rsa2048", "rsa3072", "rsa4096", "p256", "p384", "ed25519",
};
#define NTYPES	(sizeof(types) / sizeof(types[0]))

static struct cert_chain *
load(const char *name)
{
	struct cert_chain	*c = NULL;
	char			 path[512];

	snprintf(path, sizeof(path), CERTS "%s", name);
	assert_int_equal(cert_chain_load(path, &c), 0);
	assert_non_null(c);
	return c;
}

static int
load_rc(const char *name)
{
	struct cert_chain	*c = NULL;
	char			 path[512];
	int			 rc;

	snprintf(path, sizeof(path), CERTS "%s", name);
	rc = cert_chain_load(path, &c);
	if (rc != 0)
		assert_null(c);
	cert_chain_free(c);
	return rc;
}

/* Every golden line: FILE U S M HEX, computed by openssl at generation time. */
static void
test_golden(void **state)
{
	struct cert_chain	*c;
	struct tlsa_rr		 rr;
	struct tlsa_param	 p;
	char			*line = NULL, *text, file[128], hex[40000];
	char			 want[40100];
	size_t			 cap = 0;
	unsigned		 u, s, m;
	int			 rows = 0, notafter = 0;
	long long		 epoch;
	time_t			 t;
	FILE			*f;

	(void)state;
	f = fopen(CERTS "golden.txt", "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) != -1) {
		if (sscanf(line, "%127s notafter %lld", file, &epoch) == 2) {
			c = load(file);
			assert_int_equal(cert_not_after(c, &t), 0);
			assert_int_equal((long long)t, epoch);
			cert_chain_free(c);
			notafter++;
			continue;
		}
		assert_int_equal(sscanf(line, "%127s %u %u %u %39999s", file, &u,
		    &s, &m, hex), 5);
		p.usage = (uint8_t)u;
		p.selector = (uint8_t)s;
		p.mtype = (uint8_t)m;
		c = load(file);
		memset(&rr, 0, sizeof(rr));
		assert_int_equal(cert_tlsa_rr(c, p, &rr), 0);
		assert_int_equal(tlsa_rr_format(&rr, &text), 0);
		snprintf(want, sizeof(want), "%u %u %u %s", u, s, m, hex);
		assert_string_equal(text, want);
		/* What we compute, we match. */
		assert_int_equal(cert_tlsa_match(c, &rr), 1);
		/* A lazily decoded chain gives the same data. */
		{
			struct cert_chain	*lazy = NULL;
			struct tlsa_rr		 rr2;
			char			 path[512];

			memset(&rr2, 0, sizeof(rr2));
			snprintf(path, sizeof(path), CERTS "%s", file);
			assert_int_equal(cert_chain_load_flags(path,
			    CERT_LOAD_LAZY, &lazy), 0);
			assert_int_equal(cert_tlsa_rr(lazy, p, &rr2), 0);
			assert_true(tlsa_rr_equal(&rr, &rr2));
			tlsa_rr_clear(&rr2);
			cert_chain_free(lazy);
		}
		if (u == 3 && s == 1 && m == 1) {
			uint8_t	spki[32];

			assert_int_equal(cert_spki_sha256(c, spki), 0);
			assert_memory_equal(spki, rr.data, 32);
		}
		free(text);
		tlsa_rr_clear(&rr);
		cert_chain_free(c);
		rows++;
	}
	free(line);
	fclose(f);
	/* 6 types x 2 roles x 6 (selector, mtype) pairs; a notAfter each. */
	assert_int_equal(rows, (int)NTYPES * 2 * 6);
	assert_int_equal(notafter, (int)NTYPES);
}

static void
test_chain_shapes(void **state)
{
	struct cert_chain	*c;
	char			 name[64];
	size_t			 i;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		snprintf(name, sizeof(name), "%s-leaf.pem", types[i]);
		c = load(name);
		assert_int_equal(cert_chain_count(c), 1);
		assert_non_null(cert_chain_leaf(c));
		assert_ptr_equal(cert_chain_leaf(c), cert_chain_get(c, 0));
		assert_null(cert_chain_get(c, 1));
		cert_chain_free(c);
		snprintf(name, sizeof(name), "%s-chain3.pem", types[i]);
		c = load(name);
		assert_int_equal(cert_chain_count(c), 3);
		cert_chain_free(c);
	}
	/* A key+chain file (what the deployer writes) loads as its chain. */
	c = load("p256-combined.pem");
	assert_int_equal(cert_chain_count(c), 2);
	cert_chain_free(c);
	assert_int_equal(cert_chain_count(NULL), 0);
	assert_null(cert_chain_leaf(NULL));
	cert_chain_free(NULL);
}

static void
test_bad_files(void **state)
{
	(void)state;
	assert_int_equal(load_rc("bad-empty.pem"), TLSAD_ECERT_EMPTY);
	assert_int_equal(load_rc("bad-blank.pem"), TLSAD_ECERT_EMPTY);
	assert_int_equal(load_rc("bad-truncated.pem"), TLSAD_ECERT_TRUNCATED);
	assert_int_equal(load_rc("bad-truncated-mid.pem"), TLSAD_ECERT_TRUNCATED);
	assert_int_equal(load_rc("bad-garbage.pem"), TLSAD_ECERT_NOPEM);
	assert_int_equal(load_rc("bad-der.pem"), TLSAD_ECERT_DER);
	assert_int_equal(load_rc("bad-key-as-cert.pem"), TLSAD_ECERT_ISKEY);
	assert_int_equal(load_rc("p256-leaf-trad.key"), TLSAD_ECERT_ISKEY);
	assert_int_equal(load_rc("bad-encrypted.key"), TLSAD_ECERT_ISKEY);
	assert_int_equal(load_rc("bad-badpem.pem"), TLSAD_ECERT_BADPEM);
	assert_int_equal(load_rc("bad-notcert.pem"), TLSAD_ECERT_NOTCERT);
	assert_int_equal(load_rc("no-such-file.pem"), -ENOENT);
	assert_int_equal(load_rc(""), -EISDIR);		/* the directory */
}

static void
test_bad_memory(void **state)
{
	struct cert_chain	*c = NULL;
	char			*buf;
	static const char	 cut_end[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIF";
	static const char	 wrong_end[] = "-----BEGIN CERTIFICATE-----\nMIIB\n"
	    "-----END PRIVATE KEY-----\n";
	static const char	 cut_label[] = "-----BEGIN CERTIFIC";

	(void)state;
	assert_int_equal(cert_chain_from_pem("", 0, &c), TLSAD_ECERT_EMPTY);
	assert_int_equal(cert_chain_from_pem(cut_end, sizeof(cut_end) - 1, &c),
	    TLSAD_ECERT_TRUNCATED);
	assert_int_equal(cert_chain_from_pem(wrong_end, sizeof(wrong_end) - 1,
	    &c), TLSAD_ECERT_TRUNCATED);
	assert_int_equal(cert_chain_from_pem(cut_label, sizeof(cut_label) - 1,
	    &c), TLSAD_ECERT_TRUNCATED);
	assert_int_equal(cert_chain_from_pem("\x30\x82\x01\x00\x00", 5, &c),
	    TLSAD_ECERT_DER);
	assert_int_equal(cert_chain_from_pem("\x00\xff\x13", 3, &c),
	    TLSAD_ECERT_NOPEM);
	assert_int_equal(cert_chain_from_pem(NULL, 0, &c), TLSAD_ECERT_EMPTY);
	assert_int_equal(cert_chain_from_pem(NULL, 1, &c), TLSAD_EINVAL);
	/* Over the cap, whatever the content. */
	buf = calloc(1, CERT_PEM_MAX + 1);
	assert_non_null(buf);
	assert_int_equal(cert_chain_from_pem(buf, CERT_PEM_MAX + 1, &c),
	    TLSAD_ETOOBIG);
	free(buf);
	assert_null(c);
}

/* More certificates than CERT_CHAIN_MAX in one file. */
static void
test_too_many_certs(void **state)
{
	struct cert_chain	*c = NULL;
	char			*one = NULL, *many;
	size_t			 len = 0, i;

	(void)state;
	assert_int_equal(cert_read_file(CERTS "p256-leaf.pem", &one, &len), 0);
	many = malloc(len * (CERT_CHAIN_MAX + 1));
	assert_non_null(many);
	for (i = 0; i < CERT_CHAIN_MAX; i++)
		memcpy(many + i * len, one, len);
	assert_int_equal(cert_chain_from_pem(many, len * CERT_CHAIN_MAX, &c), 0);
	assert_int_equal(cert_chain_count(c), CERT_CHAIN_MAX);
	cert_chain_free(c);
	c = NULL;
	memcpy(many + CERT_CHAIN_MAX * len, one, len);
	assert_int_equal(cert_chain_from_pem(many, len * (CERT_CHAIN_MAX + 1),
	    &c), TLSAD_ETOOBIG);
	assert_null(c);
	free(many);
	free(one);
}

static void
test_oversize_file(void **state)
{
	char	path[512], *buf = NULL;
	size_t	len = 0;
	FILE	*f;
	int	i;

	(void)state;
	mkdir(TLSAD_TEST_TMP, 0700);
	snprintf(path, sizeof(path), TLSAD_TEST_TMP "/cert-oversize-%ld.pem",
	    (long)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	/* One byte over the cap. */
	for (i = 0; i < CERT_PEM_MAX; i++)
		fputc(i % 64 == 63 ? '\n' : '#', f);
	fputc('x', f);
	fclose(f);
	assert_int_equal(cert_read_file(path, &buf, &len), TLSAD_ETOOBIG);
	assert_null(buf);
	{
		struct cert_chain	*c = NULL;

		assert_int_equal(cert_chain_load(path, &c), TLSAD_ETOOBIG);
		assert_null(c);
		/* Exactly at the cap is read (and is no certificate). */
		assert_int_equal(truncate(path, CERT_PEM_MAX), 0);
		assert_int_equal(cert_read_file(path, &buf, &len), 0);
		assert_int_equal(len, CERT_PEM_MAX);
		free(buf);
		assert_int_equal(cert_chain_load(path, &c), TLSAD_ECERT_NOPEM);
	}
	unlink(path);
}

/*
 * A certificate whose DER framing is sound but whose validity holds an
 * OCTET STRING where a UTCTime belongs: OpenSSL cannot decode it.  Eager
 * loading refuses it; lazy loading hashes it and fails where decoding is
 * needed.
 */
static void
test_lazy_undecodable(void **state)
{
	struct cert_chain	*c = NULL, *good;
	struct tlsa_rr		 rr, want;
	struct tlsa_param	 ee = { 3, 1, 1 };
	unsigned char		 b64[4096];
	char			*der = NULL, pem[4300];
	size_t			 len = 0, i;
	time_t			 t;
	int			 n;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	memset(&want, 0, sizeof(want));
	assert_int_equal(cert_read_file(CERTS "bad-der.pem", &der, &len), 0);
	for (i = 0; i + 1 < len; i++) {
		if ((unsigned char)der[i] == 0x17 && der[i + 1] == 0x0d)
			break;
	}
	assert_true(i + 1 < len);
	der[i] = 0x04;
	n = EVP_EncodeBlock(b64, (unsigned char *)der, (int)len);
	assert_true(n > 0);
	n = snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n%s\n"
	    "-----END CERTIFICATE-----\n", b64);
	assert_true(n > 0 && (size_t)n < sizeof(pem));
	assert_int_equal(cert_chain_from_pem(pem, (size_t)n, &c),
	    TLSAD_ECERT_BADPEM);
	assert_int_equal(cert_chain_from_pem_flags(pem, (size_t)n,
	    CERT_LOAD_LAZY, &c), 0);
	/* Its key is the p256 leaf's: same 3 1 1. */
	good = load("p256-leaf.pem");
	assert_int_equal(cert_tlsa_rr(good, ee, &want), 0);
	assert_int_equal(cert_tlsa_rr(c, ee, &rr), 0);
	assert_true(tlsa_rr_equal(&rr, &want));
	assert_null(cert_chain_get(c, 0));
	assert_int_equal(cert_not_after(c, &t), TLSAD_ECERT_BADPEM);
	assert_int_equal(cert_chain_from_pem_flags(pem, (size_t)n, 0x80, &c),
	    TLSAD_EINVAL);
	tlsa_rr_clear(&rr);
	tlsa_rr_clear(&want);
	cert_chain_free(good);
	cert_chain_free(c);
	free(der);
}

/* Framing errors the DER walk catches: bytes cut, bytes added. */
static void
test_bad_der_framing(void **state)
{
	struct cert_chain	*c = NULL;
	unsigned char		 b64[4096];
	char			*der = NULL, pem[4300];
	size_t			 len = 0;
	int			 n, cut;

	(void)state;
	assert_int_equal(cert_read_file(CERTS "bad-der.pem", &der, &len), 0);
	for (cut = -1; cut <= 1; cut += 2) {
		n = EVP_EncodeBlock(b64, (unsigned char *)der, (int)len + cut);
		n = snprintf(pem, sizeof(pem), "-----BEGIN CERTIFICATE-----\n%s\n"
		    "-----END CERTIFICATE-----\n", b64);
		assert_int_equal(cert_chain_from_pem_flags(pem, (size_t)n,
		    CERT_LOAD_LAZY, &c), TLSAD_ECERT_BADPEM);
		assert_null(c);
	}
	free(der);
}

/* CRLF line ends and text around the blocks (openssl x509 -text, PKCS#12 bag attributes). */
static void
test_pem_variants(void **state)
{
	struct cert_chain	*c = NULL, *want;
	struct tlsa_param	 ee = { 3, 1, 1 }, ta = { 2, 1, 1 };
	struct tlsa_rr		 a, b;
	char			*pem = NULL, *crlf, *text;
	size_t			 len = 0, i, n = 0;

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	want = load("p256-fullchain.pem");
	assert_int_equal(cert_read_file(CERTS "p256-fullchain.pem", &pem, &len), 0);
	crlf = malloc(2 * len + 1);
	assert_non_null(crlf);
	for (i = 0; i < len; i++) {
		if (pem[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = pem[i];
	}
	assert_int_equal(cert_chain_from_pem(crlf, n, &c), 0);
	assert_int_equal(cert_chain_count(c), 2);
	assert_int_equal(cert_tlsa_rr(c, ee, &a), 0);
	assert_int_equal(cert_tlsa_rr(want, ee, &b), 0);
	assert_true(tlsa_rr_equal(&a, &b));
	tlsa_rr_clear(&a);
	tlsa_rr_clear(&b);
	assert_int_equal(cert_tlsa_rr(c, ta, &a), 0);
	assert_int_equal(cert_tlsa_rr(want, ta, &b), 0);
	assert_true(tlsa_rr_equal(&a, &b));
	tlsa_rr_clear(&a);
	tlsa_rr_clear(&b);
	cert_chain_free(c);
	c = NULL;
	text = malloc(len + 200);
	assert_non_null(text);
	n = (size_t)snprintf(text, len + 200, "Bag Attributes\n    friendlyName: mx\n"
	    "subject=CN = mx.example.org\n%s\ntrailing words\n", pem);
	assert_int_equal(cert_chain_from_pem(text, n, &c), 0);
	assert_int_equal(cert_chain_count(c), 2);
	cert_chain_free(c);
	free(text);
	free(crlf);
	free(pem);
	cert_chain_free(want);
}

static void
test_read_file(void **state)
{
	char	*buf = NULL;
	size_t	 len = 0;

	(void)state;
	assert_int_equal(cert_read_file(CERTS "bad-garbage.pem", &buf, &len), 0);
	assert_int_equal(len, strlen(buf));	/* NUL-terminated, no NUL inside */
	assert_true(len > 10);
	free(buf);
	buf = NULL;
	assert_int_equal(cert_read_file(CERTS "bad-empty.pem", &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	assert_int_equal(cert_read_file("/dev/null", &buf, &len), TLSAD_EINVAL);
}

static void
test_noissuer(void **state)
{
	struct cert_chain	*c;
	struct tlsa_param	 ta = { 2, 1, 1 }, ee = { 3, 1, 1 };
	struct tlsa_rr		 rr;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	c = load("bad-noissuer.pem");
	assert_int_equal(cert_tlsa_rr(c, ta, &rr), TLSAD_ECERT_NOISSUER);
	assert_null(rr.data);
	assert_int_equal(cert_tlsa_rr(c, ee, &rr), 0);
	tlsa_rr_clear(&rr);
	cert_chain_free(c);
	/* A leaf alone has no issuer either. */
	c = load("rsa2048-leaf.pem");
	assert_int_equal(cert_tlsa_rr(c, ta, &rr), TLSAD_ECERT_NOISSUER);
	cert_chain_free(c);
	/* Intermediate first, leaf second: chain[1] did not issue chain[0]. */
	c = load("bad-misordered.pem");
	assert_int_equal(cert_tlsa_rr(c, ta, &rr), TLSAD_ECERT_NOISSUER);
	cert_chain_free(c);
}

static void
test_match(void **state)
{
	struct cert_chain	*full, *chain3, *other;
	struct tlsa_param	 ee = { 3, 1, 1 }, ta = { 2, 0, 1 };
	struct tlsa_param	 pkix_ee = { 1, 1, 1 };
	struct tlsa_rr		 leaf_rr, int_rr, root_rr, other_rr, pk;
	struct cert_chain	*root;

	(void)state;
	memset(&leaf_rr, 0, sizeof(leaf_rr));
	memset(&int_rr, 0, sizeof(int_rr));
	memset(&root_rr, 0, sizeof(root_rr));
	memset(&other_rr, 0, sizeof(other_rr));
	memset(&pk, 0, sizeof(pk));
	full = load("p256-fullchain.pem");
	chain3 = load("p256-chain3.pem");
	other = load("rsa2048-fullchain.pem");
	root = load("p256-root.pem");
	assert_int_equal(cert_tlsa_rr(full, ee, &leaf_rr), 0);
	assert_int_equal(cert_tlsa_rr(full, ta, &int_rr), 0);
	assert_int_equal(cert_tlsa_rr(other, ee, &other_rr), 0);
	/* The root as a leaf of its own: its 2 0 1 data, relabelled. */
	assert_int_equal(cert_tlsa_rr(root, (struct tlsa_param){ 3, 0, 1 },
	    &root_rr), 0);
	root_rr.param.usage = 2;
	assert_int_equal(cert_tlsa_match(full, &leaf_rr), 1);
	assert_int_equal(cert_tlsa_match(full, &int_rr), 1);
	assert_int_equal(cert_tlsa_match(full, &other_rr), 0);
	/* Usage 2 matches any issuer in the chain, the root too. */
	assert_int_equal(cert_tlsa_match(full, &root_rr), 0);
	assert_int_equal(cert_tlsa_match(chain3, &root_rr), 1);
	assert_int_equal(cert_tlsa_match(chain3, &int_rr), 1);
	/* Usage 2 never matches the leaf, usage 3 never an issuer. */
	leaf_rr.param.usage = 2;
	assert_int_equal(cert_tlsa_match(full, &leaf_rr), 0);
	leaf_rr.param.usage = 3;
	int_rr.param.usage = 3;
	assert_int_equal(cert_tlsa_match(full, &int_rr), 0);
	/* PKIX-EE is computed like DANE-EE. */
	assert_int_equal(cert_tlsa_rr(full, pkix_ee, &pk), 0);
	assert_memory_equal(pk.data, leaf_rr.data, 32);
	assert_int_equal(cert_tlsa_match(full, &pk), 1);
	/* A flipped bit does not match. */
	leaf_rr.data[7] ^= 0x10;
	assert_int_equal(cert_tlsa_match(full, &leaf_rr), 0);
	/* Malformed records are errors, not "no match". */
	leaf_rr.param.mtype = 9;
	assert_int_equal(cert_tlsa_match(full, &leaf_rr), TLSAD_EINVAL);
	assert_int_equal(cert_tlsa_match(NULL, &int_rr), TLSAD_EINVAL);
	tlsa_rr_clear(&leaf_rr);
	tlsa_rr_clear(&int_rr);
	tlsa_rr_clear(&root_rr);
	tlsa_rr_clear(&other_rr);
	tlsa_rr_clear(&pk);
	cert_chain_free(full);
	cert_chain_free(chain3);
	cert_chain_free(other);
	cert_chain_free(root);
}

static void
test_keys(void **state)
{
	static const char	 cut_key[] = "-----BEGIN PRIVATE KEY-----\nMIG";
	static const char	 junk_key[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n";
	struct cert_chain	*c;
	struct cert_key		*k = NULL;
	char			 name[64];
	size_t			 i, j;

	(void)state;
	for (i = 0; i < NTYPES; i++) {
		snprintf(name, sizeof(name), "%s-fullchain.pem", types[i]);
		c = load(name);
		for (j = 0; j < NTYPES; j++) {
			snprintf(name, sizeof(name), CERTS "%s-leaf.key", types[j]);
			assert_int_equal(cert_key_load(name, &k), 0);
			assert_non_null(cert_key_pkey(k));
			assert_int_equal(cert_key_matches(c, k), i == j ? 0 :
			    TLSAD_ECERT_KEYMISMATCH);
			cert_key_free(k);
			k = NULL;
		}
		/* The intermediate's key is not the leaf's. */
		snprintf(name, sizeof(name), CERTS "%s-int.key", types[i]);
		assert_int_equal(cert_key_load(name, &k), 0);
		assert_int_equal(cert_key_matches(c, k), TLSAD_ECERT_KEYMISMATCH);
		cert_key_free(k);
		k = NULL;
		cert_chain_free(c);
	}
	/* Traditional forms and a combined key+chain file. */
	c = load("p256-fullchain.pem");
	assert_int_equal(cert_key_load(CERTS "p256-leaf-trad.key", &k), 0);
	assert_int_equal(cert_key_matches(c, k), 0);
	cert_key_free(k);
	assert_int_equal(cert_key_load(CERTS "p256-combined.pem", &k), 0);
	assert_int_equal(cert_key_matches(c, k), 0);
	cert_key_free(k);
	assert_int_equal(cert_key_load(CERTS "p256-other.key", &k), 0);
	assert_int_equal(cert_key_matches(c, k), TLSAD_ECERT_KEYMISMATCH);
	cert_key_free(k);
	cert_chain_free(c);
	c = load("rsa2048-fullchain.pem");
	assert_int_equal(cert_key_load(CERTS "rsa2048-leaf-trad.key", &k), 0);
	assert_int_equal(cert_key_matches(c, k), 0);
	cert_key_free(k);
	cert_chain_free(c);
	k = NULL;
	/* Bad keys. */
	assert_int_equal(cert_key_load(CERTS "bad-encrypted.key", &k),
	    TLSAD_ECERT_BADKEY);
	assert_int_equal(cert_key_load(CERTS "p256-leaf.pem", &k),
	    TLSAD_ECERT_BADKEY);
	assert_int_equal(cert_key_load(CERTS "bad-empty.pem", &k),
	    TLSAD_ECERT_EMPTY);
	assert_int_equal(cert_key_load(CERTS "bad-garbage.pem", &k),
	    TLSAD_ECERT_NOPEM);
	assert_int_equal(cert_key_load(CERTS "bad-der.pem", &k),
	    TLSAD_ECERT_DER);
	assert_int_equal(cert_key_from_pem(cut_key, strlen(cut_key), &k),
	    TLSAD_ECERT_TRUNCATED);
	assert_int_equal(cert_key_from_pem(junk_key, strlen(junk_key), &k),
	    TLSAD_ECERT_BADKEY);
	assert_null(k);
	assert_null(cert_key_pkey(NULL));
	cert_key_free(NULL);
}

static void
test_bad_args(void **state)
{
	struct cert_chain	*c;
	struct tlsa_rr		 rr;
	struct tlsa_param	 bad = { 3, 2, 1 };
	uint8_t			 d[32];
	time_t			 t;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	c = load("p256-leaf.pem");
	assert_int_equal(cert_tlsa_rr(c, bad, &rr), TLSAD_EINVAL);
	bad.selector = 1;
	bad.mtype = 3;
	assert_int_equal(cert_tlsa_rr(c, bad, &rr), TLSAD_EINVAL);
	bad.mtype = 1;
	bad.usage = 4;
	assert_int_equal(cert_tlsa_rr(c, bad, &rr), TLSAD_EINVAL);
	assert_null(rr.data);
	assert_int_equal(cert_spki_sha256(NULL, d), TLSAD_EINVAL);
	assert_int_equal(cert_not_after(NULL, &t), TLSAD_EINVAL);
	assert_int_equal(cert_chain_load(NULL, &c), TLSAD_EINVAL);
	cert_chain_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_chain_shapes),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_bad_memory),
		cmocka_unit_test(test_too_many_certs),
		cmocka_unit_test(test_oversize_file),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_pem_variants),
		cmocka_unit_test(test_lazy_undecodable),
		cmocka_unit_test(test_bad_der_framing),
		cmocka_unit_test(test_noissuer),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
