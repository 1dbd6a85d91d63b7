/*
 * fuzz_tsig.c -- fuzz target for the TSIG key file parser (tsig_parse).
 * Any text must either give one well-formed key or fail with a reason;
 * never crash, leak or read out of bounds.  A key that parsed must be found
 * again by its own name, and a failure to find another name must not quote
 * the secret in its reason.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tlsad/error.h"
#include "tlsad/tsig.h"

/* Does the reason end inside its buffer and say something? */
static void
check_why(const char *why, size_t len)
{
	if (memchr(why, '\0', len) == NULL || why[0] == '\0')
		abort();
}

/* Every property tsig.h promises about a parsed key. */
static void
check_key(const struct tsig_key *key)
{
	size_t	n, i;

	if (key->name == NULL || key->algo_name == NULL ||
	    key->secret_b64 == NULL || key->secret == NULL)
		abort();
	n = strlen(key->name);
	if (n == 0 || n > TSIG_NAME_MAX + 1 || key->name[n - 1] != '.')
		abort();
	for (i = 0; i < n; i++)
		if (isupper((unsigned char)key->name[i]))
			abort();
	if (key->algo < TSIG_ALGO_HMAC_SHA1 || key->algo > TSIG_ALGO_HMAC_SHA512)
		abort();
	if (key->weak != (key->algo == TSIG_ALGO_HMAC_SHA1))
		abort();
	if (key->secret_len == 0 || key->secret_len > TSIG_SECRET_MAX)
		abort();
	if (tsig_algo_str(key->algo) == NULL)
		abort();
}

static int
same_key(const struct tsig_key *a, const struct tsig_key *b)
{
	return strcmp(a->name, b->name) == 0 && a->algo == b->algo &&
	    strcmp(a->algo_name, b->algo_name) == 0 &&
	    strcmp(a->secret_b64, b->secret_b64) == 0 &&
	    a->secret_len == b->secret_len &&
	    memcmp(a->secret, b->secret, a->secret_len) == 0 &&
	    a->weak == b->weak;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tsig_key	*key = NULL, *again = NULL, *other = NULL;
	char		 why[256], name[TSIG_NAME_MAX + 2];
	size_t		 n;
	int		 rc;

	rc = tsig_parse((const char *)data, size, NULL, &key, why, sizeof(why));
	if ((rc == 0) != (key != NULL))
		abort();
	if (rc != 0) {
		check_why(why, sizeof(why));
		/* A selected name walks the clause matching as well. */
		rc = tsig_parse((const char *)data, size, "update.example",
		    &other, why, sizeof(why));
		if ((rc == 0) != (other != NULL))
			abort();
		if (rc != 0)
			check_why(why, sizeof(why));
		else
			check_key(other);
		goto out;
	}
	check_key(key);

	/* Found again by its own name, with or without the final dot. */
	rc = tsig_parse((const char *)data, size, key->name, &again, why,
	    sizeof(why));
	if (rc != 0 || !same_key(key, again))
		abort();
	tsig_key_free(again);
	again = NULL;
	n = strlen(key->name);
	if (n > 1) {
		memcpy(name, key->name, n - 1);
		name[n - 1] = '\0';
		rc = tsig_parse((const char *)data, size, name, &again, why,
		    sizeof(why));
		if (rc != 0 || !same_key(key, again))
			abort();
	}

	/* Asking for a key that is not there fails without the secret. */
	if (strcmp(key->name, "no-such-key.invalid.") == 0)
		goto out;
	rc = tsig_parse((const char *)data, size, "no-such-key.invalid.", &other,
	    why, sizeof(why));
	if (rc != TLSAD_ETSIG_KEYFILE || other != NULL)
		abort();
	check_why(why, sizeof(why));
	if (strlen(key->secret_b64) >= 8 && strstr(why, key->secret_b64) != NULL)
		abort();
out:
	tsig_key_free(key);
	tsig_key_free(again);
	tsig_key_free(other);
	return 0;
}
