/*
 * error.c -- names and sentences for the codes of error.h.
 * The sentences are written for a mail administrator, not for a programmer.
 */
#include <string.h>

#include "tlsad/error.h"

struct errdesc {
	int		 code;
	const char	*name;
	const char	*text;
};

#define E(c, t)	{ TLSAD_E##c, #c, t }

static const struct errdesc errtab[] = {
	E(NOMEM, "out of memory"),
	E(INVAL, "invalid argument"),
	E(TOOBIG, "input is larger than its size limit"),
	E(INTERNAL, "internal error (a bug in tlsad)"),
	E(USAGE, "bad command-line usage"),
	E(TIMEOUT, "the deadline passed"),
	E(SPAWN, "could not start the program"),
	E(CHILD, "the program exited with an error"),

	E(CERT_EMPTY, "the file is empty"),
	E(CERT_NOPEM, "no PEM block found: the file is not a PEM certificate"),
	E(CERT_DER, "the file is DER (binary); a PEM file was expected"),
	E(CERT_TRUNCATED, "a PEM block begins but never ends: the file is truncated"),
	E(CERT_BADPEM, "a PEM block does not decode (corrupt base64 or DER)"),
	E(CERT_NOTCERT, "the PEM block is not a certificate"),
	E(CERT_ISKEY, "the file holds a private key where a certificate was expected"),
	E(CERT_NOISSUER, "the chain holds no issuer certificate after the leaf"),
	E(CERT_BADKEY, "the private key does not parse"),
	E(CERT_KEYMISMATCH, "the private key does not match the certificate"),
	E(CERT_UNSUPPORTED, "unsupported key type or parameter"),
	E(LINEAGE_INCONSISTENT, "the lineage is inconsistent (read mid-renewal?)"),
	E(LINEAGE_DANGLING, "a live/ link points at a file that does not exist"),
	E(LINEAGE_LOOP, "a live/ link loops"),
	E(LINEAGE_NOTLINK, "a live/ entry is not a symbolic link"),
	E(LINEAGE_MISSING, "a live/ entry is missing"),
	E(CERT_CHAIN, "the full chain's first certificate is not cert.pem"),
	E(CERT_EXPIRED, "the certificate has expired"),
	E(CERT_NOTYETVALID, "the certificate is not yet valid"),

	E(CONF_SYNTAX, "configuration syntax error"),
	E(CONF_UNKNOWN, "unknown configuration clause or key"),
	E(CONF_VALUE, "bad configuration value"),
	E(CONF_MISSING, "a required configuration key is missing"),
	E(CONF_DUPLICATE, "duplicate configuration key or lineage"),
	E(CONF_NOLINEAGE, "no such lineage in the configuration"),

	E(TSIG_KEYFILE, "the TSIG key file does not parse"),
	E(TSIG_PERMS, "the TSIG key file is readable by group or others"),
	E(TSIG_ALGO, "unknown or refused TSIG algorithm"),
	E(TSIG_SECRET, "the TSIG secret is not valid base64"),
	E(TSIG_BADSIG, "the server says BADSIG: the TSIG secret is wrong"),
	E(TSIG_BADKEY, "the server says BADKEY: it does not know this key name or algorithm"),
	E(TSIG_BADTIME, "the server says BADTIME: the clocks differ by more than the fudge"),
	E(TSIG_BADTRUNC, "the server says BADTRUNC: truncated MAC refused"),
	E(TSIG_REPLY, "the reply's TSIG signature is missing or does not verify"),

	E(DNS_FORMERR, "the server says FORMERR: it could not parse the message"),
	E(DNS_SERVFAIL, "the server says SERVFAIL: it failed to process the request"),
	E(DNS_NXDOMAIN, "the server says NXDOMAIN: the name does not exist"),
	E(DNS_NOTIMP, "the server says NOTIMP: it does not implement this"),
	E(DNS_REFUSED, "the server says REFUSED: the key is not allowed to update this name (check update-policy)"),
	E(DNS_YXDOMAIN, "the server says YXDOMAIN: a prerequisite failed (name exists)"),
	E(DNS_YXRRSET, "the server says YXRRSET: a prerequisite failed, someone else changed the RRset"),
	E(DNS_NXRRSET, "the server says NXRRSET: a prerequisite failed, someone else changed the RRset"),
	E(DNS_NOTAUTH, "the server says NOTAUTH: it is not authoritative for the zone, or the TSIG key is not accepted"),
	E(DNS_NOTZONE, "the server says NOTZONE: the name is not in the zone"),
	E(DNS_RCODE, "the server answered with an unexpected RCODE"),
	E(DNS_CONNREFUSED, "connection refused: no DNS server listens there"),
	E(DNS_TIMEOUT, "the DNS server did not answer in time"),
	E(DNS_NETWORK, "network error talking to the DNS server"),
	E(DNS_BADREPLY, "malformed or mismatched DNS reply"),
	E(DNS_NOZONE, "no enclosing zone found"),
	E(DNS_NOSERVERS, "no authoritative server address found"),
	E(DNS_CNAMELOOP, "CNAME chain too long or looping"),
	E(DNS_LAGGING, "some authoritative servers do not serve the change yet"),
	E(DNS_RFC7671, "refused: the RRset would no longer match the chain the MTA serves (RFC 7671 section 8)"),
	E(DNS_EMPTYRRSET, "refused: the change would leave the TLSA RRset empty"),

	E(DNSSEC_BOGUS, "DNSSEC validation failed (bogus)"),
	E(DNSSEC_INSECURE, "the answer is insecure: the zone is not DNSSEC-signed or not anchored; DANE needs DNSSEC"),
	E(DNSSEC_ANCHOR, "the trust anchor file is unusable"),
	E(DNSSEC_RESOLVE, "the validating lookup failed"),
	E(DNSSEC_MISSING, "the validated TLSA RRset lacks the expected records"),

	E(STATE_CORRUPT, "the state file does not parse"),
	E(STATE_VERSION, "the state file is from an unknown version"),
	E(ROLL_SUPERSEDED, "a newer renewal superseded this rollover"),
	E(ROLL_FAILED, "the rollover failed"),
	E(ROLL_BUSY, "a rollover of this lineage is already running"),

	E(DEPLOY, "could not write the deploy file"),
	E(RELOAD, "the reload command failed"),
	E(PROBE_CONNECT, "the probe could not connect to the MTA"),
	E(PROBE_STARTTLS, "the MTA's STARTTLS dialogue failed"),
	E(PROBE_TLS, "the TLS handshake with the MTA failed"),
	E(PROBE_DANE, "the chain the MTA serves matches no validated TLSA record"),
	E(PROBE_OLDKEY, "the MTA does not serve the new key yet"),

	E(CTL_RUNNING, "another tlsad is running (its control socket answers)"),
	E(CTL_NODAEMON, "no tlsad daemon answers on the control socket"),
	E(CTL_PERM, "permission denied: only root may do this"),
	E(CTL_PROTO, "malformed control message"),
};

#undef E

static const struct errdesc *
lookup(int code)
{
	size_t	i;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].code == code)
			return &errtab[i];
	return NULL;
}

const char *
tlsad_strerror(int code)
{
	const struct errdesc	*d;

	if (code == 0)
		return "success";
	if (code < 0 && code > -1000)
		return strerror(-code);
	d = lookup(code);
	if (d != NULL)
		return d->text;
	return "unknown error";
}

const char *
tlsad_errname(int code)
{
	const struct errdesc	*d;

	if (code == 0)
		return "OK";
	if (code < 0 && code > -1000)
		return strerrorname_np(-code) != NULL ?
		    strerrorname_np(-code) : "ERRNO";
	d = lookup(code);
	if (d != NULL)
		return d->name;
	return "UNKNOWN";
}
