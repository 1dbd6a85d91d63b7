/*
 * cert.h -- certificate chains and private keys from PEM, and the TLSA
 * association data (RFC 6698) they give.
 * Pure: no logging, no clock.  Every input is capped at CERT_PEM_MAX bytes
 * and CERT_CHAIN_MAX certificates.  All functions return 0 or a negative
 * code of error.h unless their comment says otherwise.
 */
#ifndef TLSAD_CERT_H
#define TLSAD_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tlsad/tlsa.h"

/* Largest PEM file (chain or key) we read: Let's Encrypt files are ~5 KiB. */
#define CERT_PEM_MAX	(256 * 1024)
/* Most certificates in one chain. */
#define CERT_CHAIN_MAX	32

/*
 * A certificate chain: the leaf first, then its issuers.  Opaque.  Not to
 * be used by two threads at once.
 */
struct cert_chain;

/* A private key.  Opaque; its secret is wiped when freed. */
struct cert_key;

/*
 * Load a chain from a PEM file of at most CERT_PEM_MAX bytes.  On success
 * *out is the caller's (cert_chain_free).  Errors: -errno for the file,
 * TLSAD_ETOOBIG, and those of cert_chain_from_pem.
 */
int	cert_chain_load(const char *path, struct cert_chain **out);

/*
 * Parse a chain from len bytes of PEM (need not be NUL-terminated).  Blocks
 * other than certificates ("CERTIFICATE", "X509 CERTIFICATE") are ignored
 * when at least one certificate is present (a key+chain file loads as its
 * chain).  Every certificate's DER framing is checked (RFC 5280
 * Certificate and TBSCertificate down to subjectPublicKeyInfo), and OpenSSL
 * must decode it.  Errors:
 *   TLSAD_ECERT_EMPTY      no data, or only white space
 *   TLSAD_ETOOBIG          more than CERT_PEM_MAX bytes or CERT_CHAIN_MAX certs
 *   TLSAD_ECERT_DER        binary DER where PEM was expected
 *   TLSAD_ECERT_NOPEM      no PEM block at all (garbage)
 *   TLSAD_ECERT_TRUNCATED  a "-----BEGIN" without its "-----END"
 *   TLSAD_ECERT_BADPEM     a certificate block that does not decode
 *   TLSAD_ECERT_ISKEY      no certificate, but a private key
 *   TLSAD_ECERT_NOTCERT    no certificate, other PEM blocks only
 */
int	cert_chain_from_pem(const char *buf, size_t len, struct cert_chain **out);

/*
 * Read a whole regular file of at most CERT_PEM_MAX bytes into a
 * NUL-terminated malloc'ed buffer (*len without the NUL).  Failed reads
 * wipe what they read (it may be a key).  Errors: -errno (-EISDIR for a
 * directory), TLSAD_EINVAL (not a regular file), TLSAD_ETOOBIG.
 */
int	cert_read_file(const char *path, char **buf, size_t *len);

/*
 * Flag for the *_flags loaders: check only the PEM and DER framing at load
 * and let OpenSSL decode a certificate on first need (cert_chain_get,
 * usage 0/2 records, cert_not_after, cert_key_matches), which then fails
 * with TLSAD_ECERT_BADPEM (or NULL) if it does not decode.  Usage 1/3
 * records and cert_spki_sha256 never need it.  For tools that hash many
 * files (tlsactl tlsa).
 */
#define CERT_LOAD_LAZY	0x1

int	cert_chain_load_flags(const char *path, unsigned flags,
	    struct cert_chain **out);
int	cert_chain_from_pem_flags(const char *buf, size_t len, unsigned flags,
	    struct cert_chain **out);

/* Free a chain; NULL is fine. */
void	cert_chain_free(struct cert_chain *chain);

/* Number of certificates (>= 1 for any loaded chain). */
size_t	cert_chain_count(const struct cert_chain *chain);

/*
 * The i-th certificate (0 = leaf), borrowed: valid until cert_chain_free.
 * NULL when i is out of range.  For OpenSSL's DANE code
 * (SSL_dane_tlsa_add, X509_cmp, ...).
 */
X509	*cert_chain_get(const struct cert_chain *chain, size_t i);

/* The leaf, borrowed (same as cert_chain_get(chain, 0)). */
X509	*cert_chain_leaf(const struct cert_chain *chain);

/*
 * Compute the record for param: usage 3 (DANE-EE) and 1 (PKIX-EE) use the
 * leaf; usage 2 (DANE-TA) and 0 (PKIX-TA) use the leaf's issuing CA, which
 * must be chain[1] and must have issued the leaf (TLSAD_ECERT_NOISSUER
 * otherwise).  Selector 0 hashes the whole DER certificate, 1 its
 * SubjectPublicKeyInfo; matching type 0 is the data itself, 1 SHA-256,
 * 2 SHA-512.  The data is computed from the bytes of the file (exactly
 * what a server sending this chain sends).  out must be zeroed; on success
 * it owns its data.
 */
int	cert_tlsa_rr(const struct cert_chain *chain, struct tlsa_param param,
	    struct tlsa_rr *out);

/*
 * Does rr match chain?  Usage 3/1 are compared with the leaf, usage 2/0
 * with every issuer certificate (chain[1..]).  Returns 1 (match), 0 (no
 * match) or a negative code (TLSAD_EINVAL for a malformed record,
 * TLSAD_ENOMEM, ...).
 */
int	cert_tlsa_match(const struct cert_chain *chain, const struct tlsa_rr *rr);

/*
 * SHA-256 of the leaf's SubjectPublicKeyInfo: the identity of "the key"
 * everywhere in tlsad (it is also the 3 1 1 association data).
 */
int	cert_spki_sha256(const struct cert_chain *chain, uint8_t out[32]);

/* The leaf's notAfter as a time_t (UTC). */
int	cert_not_after(const struct cert_chain *chain, time_t *out);

/*
 * Load a private key (PKCS#8, traditional RSA/EC; unencrypted) from a PEM
 * file or from memory.  The file's bytes are wiped before they are freed.
 * Errors: -errno, TLSAD_ETOOBIG, TLSAD_ECERT_EMPTY, TLSAD_ECERT_DER,
 * TLSAD_ECERT_NOPEM, TLSAD_ECERT_TRUNCATED, TLSAD_ECERT_BADKEY (a block that
 * does not decode, an encrypted key, or no private key block at all).
 */
int	cert_key_load(const char *path, struct cert_key **out);
int	cert_key_from_pem(const char *buf, size_t len, struct cert_key **out);

/* Free a key; NULL is fine. */
void	cert_key_free(struct cert_key *key);

/* The key, borrowed, for OpenSSL (SSL_CTX_use_PrivateKey). */
EVP_PKEY *cert_key_pkey(const struct cert_key *key);

/*
 * 0 if key is the private half of the leaf's key, TLSAD_ECERT_KEYMISMATCH
 * if not, TLSAD_ECERT_UNSUPPORTED when OpenSSL cannot decode the leaf's
 * public key (a lazily loaded chain whose framing alone was checked).
 */
int	cert_key_matches(const struct cert_chain *chain,
	    const struct cert_key *key);

#endif /* TLSAD_CERT_H */
