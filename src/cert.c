/*
 * cert.c -- PEM certificate chains and private keys, and the TLSA
 * association data they give.
 * Pure: no logging, no clock.  Inputs are capped (CERT_PEM_MAX bytes,
 * CERT_CHAIN_MAX certificates) and every way a PEM file can be wrong gets
 * its own code, because "the file is bad" does not tell an administrator
 * what to fix.  The PEM framing is scanned here rather than left to
 * OpenSSL so that a truncated file, a key in the wrong place and binary
 * DER are told apart; OpenSSL decodes each block.
 * Data is hashed from the bytes the file holds (the DER certificate, and
 * the subjectPublicKeyInfo found by walking its DER), so a chain loaded
 * with CERT_LOAD_LAZY gives its records without OpenSSL decoding the key,
 * which in OpenSSL 3 costs ~100 us per certificate.
 * No static state; one chain must not be used by two threads at once (its
 * decoded form is filled in on first use).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "tlsad/cert.h"
#include "tlsad/util.h"
#include "tlsad/error.h"

/*
 * One certificate: its DER bytes as the file holds them, where its
 * subjectPublicKeyInfo sits in them, and OpenSSL's decoded form (made at
 * load, or on first use for CERT_LOAD_LAZY chains).
 */
struct cert_entry {
	uint8_t	*der;
	size_t	 len;
	size_t	 spki_off;
	size_t	 spki_len;
	X509	*x;
};

struct cert_chain {
	struct cert_entry	e[CERT_CHAIN_MAX];
	size_t			n;
};

struct cert_key {
	EVP_PKEY	*pkey;
};

/* One PEM block found in a buffer: its label and the whole block's bytes. */
struct pem_block {
	const char	*label;
	size_t		 labellen;
	const char	*start;
	size_t		 len;
};

static const char	pem_begin[] = "-----BEGIN ";
static const char	pem_end[] = "-----END ";
static const char	pem_dashes[] = "-----";

int
cert_read_file(const char *path, char **bufp, size_t *lenp)
{
	return util_read_file(path, CERT_PEM_MAX, bufp, lenp);
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

/*
 * What is in a buffer with no PEM block: nothing, binary DER (a SEQUENCE
 * tag followed by a valid length form) or garbage.
 */
static int
classify_nopem(const char *buf, size_t len)
{
	const unsigned char	*p = (const unsigned char *)buf;
	size_t			 i;

	for (i = 0; i < len && is_space(buf[i]); i++)
		;
	if (i == len)
		return TLSAD_ECERT_EMPTY;
	if (len >= 2 && p[0] == 0x30 && (p[1] < 0x80 || (p[1] >= 0x81 &&
	    p[1] <= 0x84)))
		return TLSAD_ECERT_DER;
	return TLSAD_ECERT_NOPEM;
}

/*
 * Find the next PEM block at or after *pos.  Returns 1 and fills b, 0 when
 * there is none, or TLSAD_ECERT_TRUNCATED when a BEGIN line has no END.
 */
static int
next_block(const char *buf, size_t len, size_t *pos, struct pem_block *b)
{
	const char	*p, *end = buf + len, *lab, *labend, *e, *eol;
	size_t		 endlen;

	p = memmem(buf + *pos, len - *pos, pem_begin, sizeof(pem_begin) - 1);
	if (p == NULL)
		return 0;
	lab = p + sizeof(pem_begin) - 1;
	labend = memmem(lab, (size_t)(end - lab), pem_dashes,
	    sizeof(pem_dashes) - 1);
	eol = memchr(lab, '\n', (size_t)(end - lab));
	if (labend == NULL || (eol != NULL && labend > eol))
		return TLSAD_ECERT_TRUNCATED;
	/*
	 * The next "-----END " must be "-----END <label>-----"; an END of
	 * another label (or none) means the block we are in never ends.
	 */
	e = memmem(labend, (size_t)(end - labend), pem_end, sizeof(pem_end) - 1);
	if (e == NULL)
		return TLSAD_ECERT_TRUNCATED;
	/* A new BEGIN before our END: this block was cut short. */
	if (memmem(labend, (size_t)(e - labend), pem_begin,
	    sizeof(pem_begin) - 1) != NULL)
		return TLSAD_ECERT_TRUNCATED;
	e += sizeof(pem_end) - 1;
	endlen = (size_t)(labend - lab);
	if ((size_t)(end - e) < endlen + sizeof(pem_dashes) - 1 ||
	    memcmp(e, lab, endlen) != 0 ||
	    memcmp(e + endlen, pem_dashes, sizeof(pem_dashes) - 1) != 0)
		return TLSAD_ECERT_TRUNCATED;
	e += endlen + sizeof(pem_dashes) - 1;
	b->label = lab;
	b->labellen = (size_t)(labend - lab);
	b->start = p;
	b->len = (size_t)(e - p);
	*pos = (size_t)(e - buf);
	return 1;
}

static int
label_is(const struct pem_block *b, const char *s)
{
	return b->labellen == strlen(s) && memcmp(b->label, s, b->labellen) == 0;
}

static int
label_is_private_key(const struct pem_block *b)
{
	static const char	suffix[] = "PRIVATE KEY";
	size_t			n = sizeof(suffix) - 1;

	return b->labellen >= n &&
	    memcmp(b->label + b->labellen - n, suffix, n) == 0;
}

void
cert_chain_free(struct cert_chain *chain)
{
	size_t	i;

	if (chain == NULL)
		return;
	for (i = 0; i < chain->n; i++) {
		free(chain->e[i].der);
		X509_free(chain->e[i].x);
	}
	free(chain);
}

/*
 * One DER tag-length header at p (avail bytes): single-byte tags, definite
 * lengths of up to 4 length bytes.  *hdr gets the header size, *len the
 * content length, which must fit in avail.
 */
static int
der_header(const uint8_t *p, size_t avail, uint8_t *tag, size_t *hdr,
    size_t *len)
{
	size_t	n, i, v = 0;

	if (avail < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = p[0];
	if (p[1] < 0x80) {
		*hdr = 2;
		v = p[1];
	} else {
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || avail < 2 + n)
			return -1;
		for (i = 0; i < n; i++)
			v = v << 8 | p[2 + i];
		*hdr = 2 + n;
	}
	if (v > avail - *hdr)
		return -1;
	*len = v;
	return 0;
}

/*
 * Walk a DER Certificate (RFC 5280 4.1) far enough to check its framing and
 * find the subjectPublicKeyInfo: SEQUENCE { tbsCertificate SEQUENCE {
 * [0] version OPTIONAL, serialNumber INTEGER, signature, issuer, validity,
 * subject, subjectPublicKeyInfo, ... }, signatureAlgorithm SEQUENCE,
 * signatureValue BIT STRING }, nothing after it.
 */
static int
der_cert_spki(const uint8_t *der, size_t len, size_t *spki_off,
    size_t *spki_len)
{
	static const uint8_t	tbs_fields[] = { 0x02, 0x30, 0x30, 0x30, 0x30, 0x30 };
	const uint8_t		*p, *tbs_end;
	uint8_t			 tag;
	size_t			 hdr, n, i;

	if (der_header(der, len, &tag, &hdr, &n) != 0 || tag != 0x30 ||
	    hdr + n != len)
		return -1;
	p = der + hdr;
	if (der_header(p, (size_t)(der + len - p), &tag, &hdr, &n) != 0 ||
	    tag != 0x30)
		return -1;
	tbs_end = p + hdr + n;
	p += hdr;
	if (der_header(p, (size_t)(tbs_end - p), &tag, &hdr, &n) != 0)
		return -1;
	if (tag == 0xa0)	/* [0] EXPLICIT version */
		p += hdr + n;
	for (i = 0; i < sizeof(tbs_fields); i++) {
		if (der_header(p, (size_t)(tbs_end - p), &tag, &hdr, &n) != 0 ||
		    tag != tbs_fields[i])
			return -1;
		if (i == sizeof(tbs_fields) - 1) {
			*spki_off = (size_t)(p - der);
			*spki_len = hdr + n;
		}
		p += hdr + n;
	}
	/* After tbsCertificate: signatureAlgorithm and signatureValue, exactly. */
	p = tbs_end;
	if (der_header(p, (size_t)(der + len - p), &tag, &hdr, &n) != 0 ||
	    tag != 0x30)
		return -1;
	p += hdr + n;
	if (der_header(p, (size_t)(der + len - p), &tag, &hdr, &n) != 0 ||
	    tag != 0x03 || p + hdr + n != der + len)
		return -1;
	return 0;
}

/* The base64 body of a PEM block into malloc'ed DER. */
static int
pem_body_decode(const struct pem_block *b, uint8_t **derp, size_t *derlen)
{
	EVP_ENCODE_CTX	*ctx = NULL;
	const char	*body, *end;
	uint8_t		*der = NULL;
	int		 n = 0, m = 0, rc = TLSAD_ECERT_BADPEM;

	*derp = NULL;
	*derlen = 0;
	/* From the line after BEGIN to the start of END. */
	body = memchr(b->start, '\n', b->len);
	end = memmem(b->start, b->len, pem_end, sizeof(pem_end) - 1);
	if (body == NULL || end == NULL || end < body)
		return TLSAD_ECERT_BADPEM;
	body++;
	if (end - body <= 0 || end - body > INT_MAX / 2)
		return TLSAD_ECERT_BADPEM;
	der = malloc((size_t)(end - body) / 4 * 3 + 80);
	ctx = EVP_ENCODE_CTX_new();
	if (der == NULL || ctx == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, der, &n, (const unsigned char *)body,
	    (int)(end - body)) < 0)
		goto out;
	if (EVP_DecodeFinal(ctx, der + n, &m) != 1)
		goto out;
	if (n + m <= 0)
		goto out;
	*derp = der;
	*derlen = (size_t)(n + m);
	der = NULL;
	rc = 0;
out:
	EVP_ENCODE_CTX_free(ctx);
	free(der);
	return rc;
}

/* Decode entry i with OpenSSL; NULL if it does not decode. */
static X509 *
entry_x509(const struct cert_chain *chain, size_t i)
{
	/* The decoded form is a cache: logically the chain is unchanged. */
	struct cert_entry	*e = (struct cert_entry *)&chain->e[i];
	const unsigned char	*p = e->der;

	if (e->x != NULL)
		return e->x;
	e->x = d2i_X509(NULL, &p, (long)e->len);
	if (e->x != NULL && p != e->der + e->len) {
		X509_free(e->x);
		e->x = NULL;
	}
	if (e->x == NULL)
		ERR_clear_error();
	return e->x;
}

int
cert_chain_from_pem_flags(const char *buf, size_t len, unsigned flags,
    struct cert_chain **out)
{
	struct cert_chain	*chain = NULL;
	struct cert_entry	*e;
	struct pem_block	 b;
	size_t			 pos = 0;
	int			 saw_key = 0, found = 0, r, rc;

	if (out == NULL || (buf == NULL && len > 0) ||
	    (flags & ~CERT_LOAD_LAZY) != 0)
		return TLSAD_EINVAL;
	*out = NULL;
	if (len > CERT_PEM_MAX)
		return TLSAD_ETOOBIG;
	if (len == 0)
		return TLSAD_ECERT_EMPTY;
	chain = calloc(1, sizeof(*chain));
	if (chain == NULL)
		return TLSAD_ENOMEM;
	for (;;) {
		r = next_block(buf, len, &pos, &b);
		if (r < 0) {
			rc = r;
			goto out;
		}
		if (r == 0)
			break;
		found = 1;
		if (label_is_private_key(&b)) {
			saw_key = 1;
			continue;
		}
		if (!label_is(&b, "CERTIFICATE") &&
		    !label_is(&b, "X509 CERTIFICATE"))
			continue;
		if (chain->n == CERT_CHAIN_MAX) {
			rc = TLSAD_ETOOBIG;
			goto out;
		}
		e = &chain->e[chain->n++];
		rc = pem_body_decode(&b, &e->der, &e->len);
		if (rc != 0)
			goto out;
		if (der_cert_spki(e->der, e->len, &e->spki_off,
		    &e->spki_len) != 0) {
			rc = TLSAD_ECERT_BADPEM;
			goto out;
		}
		if ((flags & CERT_LOAD_LAZY) == 0 &&
		    entry_x509(chain, chain->n - 1) == NULL) {
			rc = TLSAD_ECERT_BADPEM;
			goto out;
		}
	}
	if (!found) {
		rc = classify_nopem(buf, len);
		goto out;
	}
	if (chain->n == 0) {
		rc = saw_key ? TLSAD_ECERT_ISKEY : TLSAD_ECERT_NOTCERT;
		goto out;
	}
	*out = chain;
	chain = NULL;
	rc = 0;
out:
	cert_chain_free(chain);
	return rc;
}

int
cert_chain_from_pem(const char *buf, size_t len, struct cert_chain **out)
{
	return cert_chain_from_pem_flags(buf, len, 0, out);
}

int
cert_chain_load_flags(const char *path, unsigned flags,
    struct cert_chain **out)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	if (path == NULL || out == NULL)
		return TLSAD_EINVAL;
	*out = NULL;
	rc = cert_read_file(path, &buf, &len);
	if (rc != 0)
		goto out;
	rc = cert_chain_from_pem_flags(buf, len, flags, out);
out:
	free(buf);
	return rc;
}

int
cert_chain_load(const char *path, struct cert_chain **out)
{
	return cert_chain_load_flags(path, 0, out);
}

size_t
cert_chain_count(const struct cert_chain *chain)
{
	return chain == NULL ? 0 : chain->n;
}

X509 *
cert_chain_get(const struct cert_chain *chain, size_t i)
{
	if (chain == NULL || i >= chain->n)
		return NULL;
	return entry_x509(chain, i);
}

X509 *
cert_chain_leaf(const struct cert_chain *chain)
{
	return cert_chain_get(chain, 0);
}

/*
 * The association data of one certificate for (selector, mtype) into a
 * malloc'ed buffer.  The bytes hashed are those of the file: the whole DER
 * certificate, or its subjectPublicKeyInfo as encoded in it.
 */
static int
assoc_data(const struct cert_entry *e, uint8_t selector, uint8_t mtype,
    uint8_t **outp, size_t *outlen)
{
	const uint8_t	*der;
	uint8_t		*data = NULL;
	unsigned int	 dlen = 0;
	const EVP_MD	*md;
	size_t		 n;
	int		 rc;

	*outp = NULL;
	*outlen = 0;
	if (selector == TLSA_SELECTOR_CERT) {
		der = e->der;
		n = e->len;
	} else if (selector == TLSA_SELECTOR_SPKI) {
		der = e->der + e->spki_off;
		n = e->spki_len;
	} else
		return TLSAD_EINVAL;
	switch (mtype) {
	case TLSA_MTYPE_FULL:
		if (n > TLSA_DATA_MAX)
			return TLSAD_ETOOBIG;
		md = NULL;
		break;
	case TLSA_MTYPE_SHA256:
		md = EVP_sha256();
		break;
	case TLSA_MTYPE_SHA512:
		md = EVP_sha512();
		break;
	default:
		return TLSAD_EINVAL;
	}
	data = malloc(md == NULL ? n : EVP_MAX_MD_SIZE);
	if (data == NULL)
		return TLSAD_ENOMEM;
	if (md == NULL) {
		memcpy(data, der, n);
		dlen = (unsigned int)n;
	} else if (EVP_Digest(der, n, data, &dlen, md, NULL) != 1) {
		ERR_clear_error();
		rc = TLSAD_EINTERNAL;
		goto out;
	}
	*outp = data;
	*outlen = dlen;
	data = NULL;
	rc = 0;
out:
	free(data);
	return rc;
}

int
cert_tlsa_rr(const struct cert_chain *chain, struct tlsa_param param,
    struct tlsa_rr *out)
{
	const struct cert_entry	*e;
	X509			*leaf, *issuer;
	uint8_t			*data = NULL;
	size_t			 len = 0;
	int			 rc;

	if (chain == NULL || chain->n == 0 || out == NULL)
		return TLSAD_EINVAL;
	switch (param.usage) {
	case TLSA_USAGE_DANE_EE:
	case TLSA_USAGE_PKIX_EE:
		e = &chain->e[0];
		break;
	case TLSA_USAGE_DANE_TA:
	case TLSA_USAGE_PKIX_TA:
		/* Only the certificate that issued the leaf, never a guess. */
		if (chain->n < 2)
			return TLSAD_ECERT_NOISSUER;
		leaf = entry_x509(chain, 0);
		issuer = entry_x509(chain, 1);
		if (leaf == NULL || issuer == NULL)
			return TLSAD_ECERT_BADPEM;
		if (X509_check_issued(issuer, leaf) != X509_V_OK)
			return TLSAD_ECERT_NOISSUER;
		e = &chain->e[1];
		break;
	default:
		return TLSAD_EINVAL;
	}
	rc = assoc_data(e, param.selector, param.mtype, &data, &len);
	if (rc != 0)
		goto out;
	rc = tlsa_rr_set(out, param, data, len);
out:
	free(data);
	return rc;
}

static int
match_one(const struct cert_entry *e, const struct tlsa_rr *rr)
{
	uint8_t	*data = NULL;
	size_t	 len = 0;
	int	 rc;

	rc = assoc_data(e, rr->param.selector, rr->param.mtype, &data, &len);
	if (rc == TLSAD_ETOOBIG)
		return 0;	/* longer than any record: cannot be equal */
	if (rc != 0)
		goto out;
	rc = len == rr->len && memcmp(data, rr->data, len) == 0;
out:
	free(data);
	return rc;
}

int
cert_tlsa_match(const struct cert_chain *chain, const struct tlsa_rr *rr)
{
	size_t	i;
	int	rc;

	if (chain == NULL || chain->n == 0 || rr == NULL || rr->data == NULL ||
	    rr->len == 0 || rr->param.selector > TLSA_SELECTOR_SPKI ||
	    rr->param.mtype > TLSA_MTYPE_SHA512)
		return TLSAD_EINVAL;
	switch (rr->param.usage) {
	case TLSA_USAGE_DANE_EE:
	case TLSA_USAGE_PKIX_EE:
		return match_one(&chain->e[0], rr);
	case TLSA_USAGE_DANE_TA:
	case TLSA_USAGE_PKIX_TA:
		for (i = 1; i < chain->n; i++) {
			rc = match_one(&chain->e[i], rr);
			if (rc != 0)
				return rc;
		}
		return 0;
	default:
		return TLSAD_EINVAL;
	}
}

int
cert_spki_sha256(const struct cert_chain *chain, uint8_t out[32])
{
	uint8_t	*data = NULL;
	size_t	 len = 0;
	int	 rc;

	if (chain == NULL || chain->n == 0 || out == NULL)
		return TLSAD_EINVAL;
	rc = assoc_data(&chain->e[0], TLSA_SELECTOR_SPKI, TLSA_MTYPE_SHA256,
	    &data, &len);
	if (rc != 0)
		goto out;
	if (len != 32) {
		rc = TLSAD_EINTERNAL;
		goto out;
	}
	memcpy(out, data, 32);
out:
	free(data);
	return rc;
}

int
cert_not_after(const struct cert_chain *chain, time_t *out)
{
	const ASN1_TIME	*t;
	struct tm	 tm;
	time_t		 v;
	X509		*leaf;

	if (chain == NULL || chain->n == 0 || out == NULL)
		return TLSAD_EINVAL;
	leaf = entry_x509(chain, 0);
	if (leaf == NULL)
		return TLSAD_ECERT_BADPEM;
	t = X509_get0_notAfter(leaf);
	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		return TLSAD_ECERT_BADPEM;
	}
	v = timegm(&tm);
	if (v == (time_t)-1)
		return TLSAD_ECERT_BADPEM;
	*out = v;
	return 0;
}

/* Never prompt for a pass phrase: tlsad runs unattended. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

void
cert_key_free(struct cert_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);	/* clears its secret */
	free(key);
}

int
cert_key_from_pem(const char *buf, size_t len, struct cert_key **out)
{
	struct cert_key		*key = NULL;
	struct pem_block	 b, keyblock;
	BIO			*bio = NULL;
	size_t			 pos = 0;
	int			 found = 0, havekey = 0, r, rc;

	if (out == NULL || (buf == NULL && len > 0))
		return TLSAD_EINVAL;
	*out = NULL;
	if (len > CERT_PEM_MAX)
		return TLSAD_ETOOBIG;
	if (len == 0)
		return TLSAD_ECERT_EMPTY;
	memset(&keyblock, 0, sizeof(keyblock));
	for (;;) {
		r = next_block(buf, len, &pos, &b);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		found = 1;
		if (label_is_private_key(&b) && !havekey) {
			keyblock = b;
			havekey = 1;
		}
	}
	if (!found)
		return classify_nopem(buf, len);
	if (!havekey || label_is(&keyblock, "ENCRYPTED PRIVATE KEY"))
		return TLSAD_ECERT_BADKEY;
	key = calloc(1, sizeof(*key));
	if (key == NULL)
		return TLSAD_ENOMEM;
	bio = BIO_new_mem_buf(keyblock.start, (int)keyblock.len);
	if (bio == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	key->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (key->pkey == NULL) {
		ERR_clear_error();
		rc = TLSAD_ECERT_BADKEY;
		goto out;
	}
	*out = key;
	key = NULL;
	rc = 0;
out:
	BIO_free(bio);
	cert_key_free(key);
	return rc;
}

int
cert_key_load(const char *path, struct cert_key **out)
{
	char	*buf = NULL;
	size_t	 len = 0;
	int	 rc;

	if (path == NULL || out == NULL)
		return TLSAD_EINVAL;
	*out = NULL;
	rc = cert_read_file(path, &buf, &len);
	if (rc != 0)
		goto out;
	rc = cert_key_from_pem(buf, len, out);
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
	return rc;
}

EVP_PKEY *
cert_key_pkey(const struct cert_key *key)
{
	return key == NULL ? NULL : key->pkey;
}

int
cert_key_matches(const struct cert_chain *chain, const struct cert_key *key)
{
	EVP_PKEY	*pub;

	if (chain == NULL || chain->n == 0 || key == NULL || key->pkey == NULL)
		return TLSAD_EINVAL;
	if (entry_x509(chain, 0) == NULL)
		return TLSAD_ECERT_BADPEM;
	pub = X509_get0_pubkey(entry_x509(chain, 0));
	if (pub == NULL) {
		ERR_clear_error();
		return TLSAD_ECERT_UNSUPPORTED;
	}
	if (EVP_PKEY_eq(pub, key->pkey) != 1) {
		ERR_clear_error();
		return TLSAD_ECERT_KEYMISMATCH;
	}
	return 0;
}
