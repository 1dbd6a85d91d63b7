/*
 * lineage.h -- read one certbot lineage: LIVE/NAME/{cert,chain,fullchain,
 * privkey}.pem, symlinks to ../../archive/NAME/<kind>N.pem.
 * Pure of logging; reads files only.  certbot replaces the four links one
 * at a time (unlink, then symlink, in the order cert, privkey, chain,
 * fullchain), so a read can see a lineage mid-renewal: that is reported as
 * TLSAD_ELINEAGE_INCONSISTENT (or TLSAD_ELINEAGE_MISSING for the instant a
 * link is absent), never guessed around.  Callers retry later.
 */
#ifndef TLSAD_LINEAGE_H
#define TLSAD_LINEAGE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tlsad/cert.h"

enum lineage_kind {
	LINEAGE_CERT = 0,
	LINEAGE_CHAIN,
	LINEAGE_FULLCHAIN,
	LINEAGE_PRIVKEY,
	LINEAGE_NKINDS
};

/* One live/ link. */
struct lineage_link {
	int	 status;	/* 0, or why this link is unusable (error.h) */
	char	*target;	/* the link's text as readlink gives it, or NULL */
	long	 version;	/* N of "<kind>N.pem", or -1 if the name has no N */
};

/* What one read of a lineage saw.  Owned by the caller: lineage_snapshot_free. */
struct lineage_snapshot {
	char			*name;		/* NAME */
	char			*dir;		/* LIVE/NAME */
	struct lineage_link	 link[LINEAGE_NKINDS];
	/*
	 * 1 when the four links carry the same N.  certbot does not promise
	 * it (a manual fix-up can leave them apart), so it is noted only.
	 */
	int			 versions_agree;
	/* 1 when lineage_read returned 0. */
	int			 consistent;
	/*
	 * The rest is set only when consistent:
	 * chain: parsed fullchain.pem (leaf first);
	 * spki_sha256: SHA-256 of the leaf's SubjectPublicKeyInfo ("the key");
	 * not_after: the leaf's notAfter;
	 * fullchain_pem, privkey_pem: the files' raw bytes (NUL-terminated,
	 * len without the NUL), so a deployer writes key+chain to one file
	 * without reading them again.  privkey_pem is wiped on free.
	 */
	struct cert_chain	*chain;
	uint8_t			 spki_sha256[32];
	time_t			 not_after;
	char			*fullchain_pem;
	size_t			 fullchain_len;
	char			*privkey_pem;
	size_t			 privkey_len;
	/* A sentence saying what is wrong (or noteworthy); "" if nothing. */
	char			 detail[512];
};

/*
 * Read lineage name under live_dir (e.g. "/etc/letsencrypt/live").  Checks
 * that all four links are symlinks that resolve to readable files of at most
 * CERT_PEM_MAX bytes, that privkey.pem matches the leaf of cert.pem, that
 * fullchain.pem's first certificate is cert.pem's, and that the rest of
 * fullchain.pem is chain.pem; and that no link changed while it was read.
 *
 * Returns 0 when consistent.  Otherwise the first problem found, links
 * checked in the order cert, chain, fullchain, privkey:
 *   TLSAD_ELINEAGE_MISSING      an entry does not exist (also LIVE/NAME)
 *   TLSAD_ELINEAGE_NOTLINK      an entry is not a symbolic link
 *   TLSAD_ELINEAGE_DANGLING     a link points at nothing
 *   TLSAD_ELINEAGE_LOOP         a link loops
 *   -EACCES (or another -errno) a file cannot be read
 *   TLSAD_ETOOBIG               a file is over CERT_PEM_MAX
 *   TLSAD_ECERT_* / TLSAD_ECERT_BADKEY  a file does not parse
 *   TLSAD_ELINEAGE_INCONSISTENT the files disagree (mid-renewal) or a
 *                               link changed during the read
 *   TLSAD_EINVAL, TLSAD_ENOMEM
 * Except for TLSAD_EINVAL and TLSAD_ENOMEM, *out is set even on failure
 * (per-link status, targets, versions and detail filled in as far as the
 * read got), so a caller can report them; the caller frees it.
 */
int	lineage_read(const char *live_dir, const char *name,
	    struct lineage_snapshot **out);

/* Free a snapshot, wiping the private key bytes; NULL is fine. */
void	lineage_snapshot_free(struct lineage_snapshot *snap);

/* "cert", "chain", "fullchain", "privkey"; "?" out of range. */
const char *lineage_kind_name(enum lineage_kind kind);

#endif /* TLSAD_LINEAGE_H */
