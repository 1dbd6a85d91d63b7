/*
 * gen-bench-certs.c -- make N leaf certificates for the `tlsactl tlsa`
 * benchmark, fast: a pool of RSA-2048 and P-256 keys is generated once and
 * reused, and one P-256 CA signs every leaf (each with its own serial and
 * name), so 10,000 certificates take seconds, not the hour that 10,000
 * `openssl req` runs with fresh RSA keys would.  Every file is a complete,
 * distinct certificate; only keys repeat (so 3 1 1 values repeat too, which
 * changes nothing for a tool that does not cache).
 *
 * Usage: gen-bench-certs OUTDIR COUNT RSA_KEYS EC_KEYS
 * Writes OUTDIR/cert-00000.pem ...; even indexes get RSA-2048 keys, odd P-256.
 * Build: cc -O2 -o gen-bench-certs gen-bench-certs.c -lcrypto
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static EVP_PKEY *
newkey(int rsa)
{
	EVP_PKEY	*k = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (k == NULL) {
		fprintf(stderr, "gen-bench-certs: key generation failed\n");
		exit(1);
	}
	return k;
}

static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *signer, X509_NAME *issuer, const char *cn,
    long serial, int days)
{
	X509		*x = X509_new();
	X509_NAME	*name = X509_NAME_new();

	if (x == NULL || name == NULL)
		exit(1);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, issuer != NULL ? issuer : name);
	X509_set_pubkey(x, key);
	if (X509_sign(x, signer, EVP_sha256()) == 0) {
		fprintf(stderr, "gen-bench-certs: signing failed\n");
		exit(1);
	}
	X509_NAME_free(name);
	return x;
}

int
main(int argc, char *argv[])
{
	EVP_PKEY	**rsa, **ec, *cakey;
	X509		 *ca, *x;
	char		  path[4096], cn[64];
	long		  count, nrsa, nec, i;
	FILE		 *f;

	if (argc != 5) {
		fprintf(stderr, "usage: gen-bench-certs OUTDIR COUNT RSA_KEYS EC_KEYS\n");
		return 64;
	}
	count = strtol(argv[2], NULL, 10);
	nrsa = strtol(argv[3], NULL, 10);
	nec = strtol(argv[4], NULL, 10);
	if (count < 1 || nrsa < 1 || nec < 1)
		return 64;
	rsa = calloc((size_t)nrsa, sizeof(*rsa));
	ec = calloc((size_t)nec, sizeof(*ec));
	if (rsa == NULL || ec == NULL)
		return 1;
	for (i = 0; i < nrsa; i++)
		rsa[i] = newkey(1);
	for (i = 0; i < nec; i++)
		ec[i] = newkey(0);
	cakey = newkey(0);
	ca = make_cert(cakey, cakey, NULL, "tlsad bench CA", 1, 3650);
	for (i = 0; i < count; i++) {
		snprintf(cn, sizeof(cn), "mx%05ld.bench.example", i);
		x = make_cert(i % 2 == 0 ? rsa[(i / 2) % nrsa] : ec[(i / 2) % nec],
		    cakey, X509_get_subject_name(ca), cn, 1000 + i, 90);
		snprintf(path, sizeof(path), "%s/cert-%05ld.pem", argv[1], i);
		f = fopen(path, "w");
		if (f == NULL || PEM_write_X509(f, x) != 1 || fclose(f) != 0) {
			fprintf(stderr, "gen-bench-certs: cannot write %s\n", path);
			return 1;
		}
		X509_free(x);
	}
	X509_free(ca);
	EVP_PKEY_free(cakey);
	for (i = 0; i < nrsa; i++)
		EVP_PKEY_free(rsa[i]);
	for (i = 0; i < nec; i++)
		EVP_PKEY_free(ec[i]);
	free(rsa);
	free(ec);
	return 0;
}
