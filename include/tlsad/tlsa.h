/*
 * tlsa.h -- TLSA records (RFC 6698) and RRsets, in memory and in
 * presentation form.  Pure: no I/O, no logging.
 */
#ifndef TLSAD_TLSA_H
#define TLSAD_TLSA_H

#include <stddef.h>
#include <stdint.h>

enum tlsa_usage {
	TLSA_USAGE_PKIX_TA = 0,
	TLSA_USAGE_PKIX_EE = 1,
	TLSA_USAGE_DANE_TA = 2,
	TLSA_USAGE_DANE_EE = 3,
};
enum tlsa_selector {
	TLSA_SELECTOR_CERT = 0,
	TLSA_SELECTOR_SPKI = 1,
};
enum tlsa_mtype {
	TLSA_MTYPE_FULL = 0,
	TLSA_MTYPE_SHA256 = 1,
	TLSA_MTYPE_SHA512 = 2,
};

/* Largest association data we hold: a whole certificate, capped. */
#define TLSA_DATA_MAX	16384

/* The (usage, selector, matching type) triple of a record: "3 1 1". */
struct tlsa_param {
	uint8_t	usage;
	uint8_t	selector;
	uint8_t	mtype;
};

/* One TLSA record.  data is owned by the record (tlsa_rr_clear frees it). */
struct tlsa_rr {
	struct tlsa_param	 param;
	uint8_t			*data;
	size_t			 len;
};

/* A set of distinct records (no duplicates); owns its records. */
struct tlsa_rrset {
	struct tlsa_rr	*rr;
	size_t		 n;
	size_t		 cap;
};

/*
 * Fill rr with a copy of data.  rr must be cleared/zeroed first.  All
 * functions here return 0 or a negative code of error.h, except the
 * predicates (*_equal, *_contains), which return 1 (true) or 0.  Records
 * are kept well formed: usage 0-3, selector 0-1, matching type 0-2, and data
 * of 32 bytes for SHA-256, 64 for SHA-512, 1..TLSA_DATA_MAX for type 0
 * (TLSAD_EINVAL otherwise).
 */
int	tlsa_rr_set(struct tlsa_rr *rr, struct tlsa_param param,
	    const uint8_t *data, size_t len);
int	tlsa_rr_copy(struct tlsa_rr *dst, const struct tlsa_rr *src);
void	tlsa_rr_clear(struct tlsa_rr *rr);
int	tlsa_rr_equal(const struct tlsa_rr *a, const struct tlsa_rr *b);

/*
 * Parse "3 1 1 <hex>" (hex may be split by white space, either case, as dig
 * prints it).  rr must be zeroed; on success it owns its data.
 */
int	tlsa_rr_parse(const char *s, struct tlsa_rr *rr);

/*
 * "3 1 1 <lower-case hex>" into a malloc'ed string (*out, caller frees).
 */
int	tlsa_rr_format(const struct tlsa_rr *rr, char **out);

/* Parse "3 1 1" (a param triple); every field within its RFC range. */
int	tlsa_param_parse(const char *s, struct tlsa_param *p);
int	tlsa_param_equal(struct tlsa_param a, struct tlsa_param b);

void	tlsa_rrset_init(struct tlsa_rrset *set);
void	tlsa_rrset_clear(struct tlsa_rrset *set);
/* Add a copy of rr unless an equal record is present (then: success). */
int	tlsa_rrset_add(struct tlsa_rrset *set, const struct tlsa_rr *rr);
/* Remove the record equal to rr; absent is success. */
int	tlsa_rrset_remove(struct tlsa_rrset *set, const struct tlsa_rr *rr);
int	tlsa_rrset_contains(const struct tlsa_rrset *set,
	    const struct tlsa_rr *rr);
/*
 * Replace dst (initialised, maybe holding records) by a copy of src; on
 * failure dst is unchanged.
 */
int	tlsa_rrset_copy(struct tlsa_rrset *dst, const struct tlsa_rrset *src);
/* Equal as sets (order does not matter). */
int	tlsa_rrset_equal(const struct tlsa_rrset *a,
	    const struct tlsa_rrset *b);

#endif /* TLSAD_TLSA_H */
