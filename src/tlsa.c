/*
 * tlsa.c -- TLSA records (RFC 6698) and RRsets in memory and in
 * presentation form.
 * Pure: no I/O, no logging.  Every record held here is well formed: its
 * parameters are in range and a digest has the length its matching type
 * says (32 bytes for SHA-256, 64 for SHA-512), so code that compares
 * records never meets a half-valid one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsad/error.h"
#include "tlsad/tlsa.h"
#include "tlsad/util.h"

/* Growth step and hard cap of an RRset: a TLSA RRset of a mail host is tiny. */
#define RRSET_MAX	256

static int
param_valid(struct tlsa_param p)
{
	return p.usage <= TLSA_USAGE_DANE_EE && p.selector <= TLSA_SELECTOR_SPKI &&
	    p.mtype <= TLSA_MTYPE_SHA512;
}

/* Is len a valid association data length for matching type mtype? */
static int
len_valid(uint8_t mtype, size_t len)
{
	switch (mtype) {
	case TLSA_MTYPE_FULL:
		return len > 0 && len <= TLSA_DATA_MAX;
	case TLSA_MTYPE_SHA256:
		return len == 32;
	case TLSA_MTYPE_SHA512:
		return len == 64;
	default:
		return 0;
	}
}

int
tlsa_rr_set(struct tlsa_rr *rr, struct tlsa_param param, const uint8_t *data,
    size_t len)
{
	uint8_t	*copy = NULL;

	if (rr == NULL || data == NULL || !param_valid(param) ||
	    !len_valid(param.mtype, len))
		return TLSAD_EINVAL;
	copy = malloc(len);
	if (copy == NULL)
		return TLSAD_ENOMEM;
	memcpy(copy, data, len);
	rr->param = param;
	rr->data = copy;
	rr->len = len;
	return 0;
}

int
tlsa_rr_copy(struct tlsa_rr *dst, const struct tlsa_rr *src)
{
	if (dst == NULL || src == NULL)
		return TLSAD_EINVAL;
	return tlsa_rr_set(dst, src->param, src->data, src->len);
}

void
tlsa_rr_clear(struct tlsa_rr *rr)
{
	if (rr == NULL)
		return;
	free(rr->data);
	rr->data = NULL;
	rr->len = 0;
	memset(&rr->param, 0, sizeof(rr->param));
}

int
tlsa_rr_equal(const struct tlsa_rr *a, const struct tlsa_rr *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return tlsa_param_equal(a->param, b->param) && a->len == b->len &&
	    (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/*
 * Read one unsigned decimal field of at most 3 digits from *sp, skipping
 * leading white space; *sp moves past it.  The field must end at white
 * space or at the end of the string.
 */
static int
read_field(const char **sp, unsigned *out)
{
	const char	*s = *sp;
	unsigned	 v = 0;
	int		 digits = 0;

	while (isspace((unsigned char)*s))
		s++;
	while (isdigit((unsigned char)*s)) {
		if (++digits > 3)
			return TLSAD_EINVAL;
		v = v * 10 + (unsigned)(*s - '0');
		s++;
	}
	if (digits == 0 || (*s != '\0' && !isspace((unsigned char)*s)))
		return TLSAD_EINVAL;
	*out = v;
	*sp = s;
	return 0;
}

static int
read_param(const char **sp, struct tlsa_param *p)
{
	unsigned	u, s, m;

	if (read_field(sp, &u) != 0 || read_field(sp, &s) != 0 ||
	    read_field(sp, &m) != 0)
		return TLSAD_EINVAL;
	if (u > 255 || s > 255 || m > 255)
		return TLSAD_EINVAL;
	p->usage = (uint8_t)u;
	p->selector = (uint8_t)s;
	p->mtype = (uint8_t)m;
	if (!param_valid(*p))
		return TLSAD_EINVAL;
	return 0;
}

int
tlsa_param_parse(const char *s, struct tlsa_param *p)
{
	struct tlsa_param	tmp;

	if (s == NULL || p == NULL)
		return TLSAD_EINVAL;
	if (read_param(&s, &tmp) != 0)
		return TLSAD_EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		return TLSAD_EINVAL;
	*p = tmp;
	return 0;
}

int
tlsa_param_equal(struct tlsa_param a, struct tlsa_param b)
{
	return a.usage == b.usage && a.selector == b.selector &&
	    a.mtype == b.mtype;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tlsa_rr_parse(const char *s, struct tlsa_rr *rr)
{
	struct tlsa_param	 p;
	uint8_t			*buf = NULL;
	size_t			 n = 0, ndigits = 0;
	int			 hi = -1, v, rc = TLSAD_EINVAL;

	if (s == NULL || rr == NULL)
		return TLSAD_EINVAL;
	if (read_param(&s, &p) != 0)
		goto out;
	/* Room for the longest valid data; checked exactly below. */
	buf = malloc(TLSA_DATA_MAX);
	if (buf == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (; *s != '\0'; s++) {
		if (isspace((unsigned char)*s))
			continue;
		v = hexval((unsigned char)*s);
		if (v < 0)
			goto out;
		ndigits++;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= TLSA_DATA_MAX)
			goto out;
		buf[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (ndigits % 2 != 0 || !len_valid(p.mtype, n))
		goto out;
	rc = tlsa_rr_set(rr, p, buf, n);
out:
	free(buf);
	return rc;
}

int
tlsa_rr_format(const struct tlsa_rr *rr, char **out)
{
	char	*s = NULL;
	size_t	 size;
	int	 n;

	if (rr == NULL || out == NULL || rr->data == NULL ||
	    !len_valid(rr->param.mtype, rr->len))
		return TLSAD_EINVAL;
	*out = NULL;
	/* "255 255 255 " + hex + NUL */
	size = 12 + 2 * rr->len + 1;
	s = malloc(size);
	if (s == NULL)
		return TLSAD_ENOMEM;
	n = snprintf(s, size, "%u %u %u ", rr->param.usage,
	    rr->param.selector, rr->param.mtype);
	if (n < 0 || (size_t)n + 2 * rr->len + 1 > size) {
		free(s);
		return TLSAD_EINTERNAL;
	}
	util_hex(rr->data, rr->len, s + n);
	*out = s;
	return 0;
}

void
tlsa_rrset_init(struct tlsa_rrset *set)
{
	if (set == NULL)
		return;
	set->rr = NULL;
	set->n = 0;
	set->cap = 0;
}

void
tlsa_rrset_clear(struct tlsa_rrset *set)
{
	size_t	i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tlsa_rr_clear(&set->rr[i]);
	free(set->rr);
	tlsa_rrset_init(set);
}

int
tlsa_rrset_contains(const struct tlsa_rrset *set, const struct tlsa_rr *rr)
{
	size_t	i;

	if (set == NULL || rr == NULL)
		return 0;
	for (i = 0; i < set->n; i++) {
		if (tlsa_rr_equal(&set->rr[i], rr))
			return 1;
	}
	return 0;
}

int
tlsa_rrset_add(struct tlsa_rrset *set, const struct tlsa_rr *rr)
{
	struct tlsa_rr	*grown;
	size_t		 cap;
	int		 rc;

	if (set == NULL || rr == NULL)
		return TLSAD_EINVAL;
	if (tlsa_rrset_contains(set, rr))
		return 0;
	if (set->n >= RRSET_MAX)
		return TLSAD_ETOOBIG;
	if (set->n == set->cap) {
		cap = set->cap == 0 ? 4 : set->cap * 2;
		grown = realloc(set->rr, cap * sizeof(*grown));
		if (grown == NULL)
			return TLSAD_ENOMEM;
		set->rr = grown;
		set->cap = cap;
	}
	memset(&set->rr[set->n], 0, sizeof(set->rr[set->n]));
	rc = tlsa_rr_copy(&set->rr[set->n], rr);
	if (rc != 0)
		return rc;
	set->n++;
	return 0;
}

int
tlsa_rrset_remove(struct tlsa_rrset *set, const struct tlsa_rr *rr)
{
	size_t	i;

	if (set == NULL || rr == NULL)
		return TLSAD_EINVAL;
	for (i = 0; i < set->n; i++) {
		if (!tlsa_rr_equal(&set->rr[i], rr))
			continue;
		tlsa_rr_clear(&set->rr[i]);
		memmove(&set->rr[i], &set->rr[i + 1],
		    (set->n - i - 1) * sizeof(set->rr[0]));
		set->n--;
		return 0;
	}
	return 0;
}

int
tlsa_rrset_copy(struct tlsa_rrset *dst, const struct tlsa_rrset *src)
{
	struct tlsa_rrset	tmp;
	size_t			i;
	int			rc = 0;

	if (dst == NULL || src == NULL)
		return TLSAD_EINVAL;
	tlsa_rrset_init(&tmp);
	for (i = 0; i < src->n; i++) {
		rc = tlsa_rrset_add(&tmp, &src->rr[i]);
		if (rc != 0)
			goto out;
	}
	/* Replace dst only once the copy is whole. */
	tlsa_rrset_clear(dst);
	*dst = tmp;
	tlsa_rrset_init(&tmp);
out:
	tlsa_rrset_clear(&tmp);
	return rc;
}

int
tlsa_rrset_equal(const struct tlsa_rrset *a, const struct tlsa_rrset *b)
{
	size_t	i;

	if (a == NULL || b == NULL)
		return 0;
	/* Both are sets (no duplicates): same size and a in b suffices. */
	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (!tlsa_rrset_contains(b, &a->rr[i]))
			return 0;
	}
	return 1;
}
