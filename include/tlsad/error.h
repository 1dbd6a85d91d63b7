/*
 * error.h -- the one error space of tlsad.
 *
 * Every function that can fail returns int: 0 on success, a negative value on
 * failure.  Values from -1 to -999 are negated errno values (-ENOENT, ...);
 * values from -1000 down are tlsad's own codes below.  tlsad_strerror() turns
 * either kind into a sentence.  Codes are grouped by the module that raises
 * them; their numbers are stable (they appear in the state files and in
 * `tlsactl status --json`), so add new ones at the end of a group.
 */
#ifndef TLSAD_ERROR_H
#define TLSAD_ERROR_H

enum tlsad_error {
	TLSAD_OK = 0,

	/* general: -1000 */
	TLSAD_ENOMEM = -1000,		/* out of memory */
	TLSAD_EINVAL = -1001,		/* invalid argument */
	TLSAD_ETOOBIG = -1002,		/* input over its size cap */
	TLSAD_EINTERNAL = -1003,	/* a bug: an impossible state */
	TLSAD_EUSAGE = -1004,		/* bad command-line usage */
	TLSAD_ETIMEOUT = -1005,		/* a deadline passed */
	TLSAD_ESPAWN = -1006,		/* a child program could not be started */
	TLSAD_ECHILD = -1007,		/* a child program exited non-zero or died */

	/* certificates and lineages: -1100 */
	TLSAD_ECERT_EMPTY = -1100,	/* file holds no data */
	TLSAD_ECERT_NOPEM = -1101,	/* no PEM block found (garbage) */
	TLSAD_ECERT_DER = -1102,	/* DER where PEM was expected */
	TLSAD_ECERT_TRUNCATED = -1103,	/* PEM block begins but does not end */
	TLSAD_ECERT_BADPEM = -1104,	/* PEM block that does not decode */
	TLSAD_ECERT_NOTCERT = -1105,	/* a PEM block that is not a certificate */
	TLSAD_ECERT_ISKEY = -1106,	/* a private key where a certificate was expected */
	TLSAD_ECERT_NOISSUER = -1107,	/* the chain has no issuer certificate */
	TLSAD_ECERT_BADKEY = -1108,	/* a private key that does not parse */
	TLSAD_ECERT_KEYMISMATCH = -1109, /* the private key does not match the certificate */
	TLSAD_ECERT_UNSUPPORTED = -1110, /* unsupported key type or parameter */
	TLSAD_ELINEAGE_INCONSISTENT = -1111, /* lineage read mid-renewal: links disagree */
	TLSAD_ELINEAGE_DANGLING = -1112, /* a live/ link points at nothing */
	TLSAD_ELINEAGE_LOOP = -1113,	/* a live/ link loops */
	TLSAD_ELINEAGE_NOTLINK = -1114,	/* a live/ entry is not a symlink */
	TLSAD_ELINEAGE_MISSING = -1115,	/* a live/ entry is missing */
	TLSAD_ECERT_CHAIN = -1116,	/* fullchain's leaf is not cert.pem */
	TLSAD_ECERT_EXPIRED = -1117,	/* the certificate has expired */
	TLSAD_ECERT_NOTYETVALID = -1118, /* the certificate is not yet valid */

	/* configuration: -1200 */
	TLSAD_ECONF_SYNTAX = -1200,	/* config syntax error */
	TLSAD_ECONF_UNKNOWN = -1201,	/* unknown clause or key */
	TLSAD_ECONF_VALUE = -1202,	/* bad value */
	TLSAD_ECONF_MISSING = -1203,	/* required key missing */
	TLSAD_ECONF_DUPLICATE = -1204,	/* duplicate key or lineage */
	TLSAD_ECONF_NOLINEAGE = -1205,	/* no such lineage in the config */

	/* TSIG keys: -1300 */
	TLSAD_ETSIG_KEYFILE = -1300,	/* key file does not parse */
	TLSAD_ETSIG_PERMS = -1301,	/* key file readable by group or others */
	TLSAD_ETSIG_ALGO = -1302,	/* unknown or refused algorithm */
	TLSAD_ETSIG_SECRET = -1303,	/* secret is not valid base64 */
	TLSAD_ETSIG_BADSIG = -1304,	/* server: BADSIG */
	TLSAD_ETSIG_BADKEY = -1305,	/* server: BADKEY */
	TLSAD_ETSIG_BADTIME = -1306,	/* server: BADTIME */
	TLSAD_ETSIG_BADTRUNC = -1307,	/* server: BADTRUNC */
	TLSAD_ETSIG_REPLY = -1308,	/* the reply's TSIG is missing or does not verify */

	/* DNS UPDATE and queries: -1400 */
	TLSAD_EDNS_FORMERR = -1400,
	TLSAD_EDNS_SERVFAIL = -1401,
	TLSAD_EDNS_NXDOMAIN = -1402,
	TLSAD_EDNS_NOTIMP = -1403,
	TLSAD_EDNS_REFUSED = -1404,
	TLSAD_EDNS_YXDOMAIN = -1405,
	TLSAD_EDNS_YXRRSET = -1406,
	TLSAD_EDNS_NXRRSET = -1407,
	TLSAD_EDNS_NOTAUTH = -1408,
	TLSAD_EDNS_NOTZONE = -1409,
	TLSAD_EDNS_RCODE = -1410,	/* another RCODE */
	TLSAD_EDNS_CONNREFUSED = -1411,	/* connection refused */
	TLSAD_EDNS_TIMEOUT = -1412,	/* no answer in time */
	TLSAD_EDNS_NETWORK = -1413,	/* other network error */
	TLSAD_EDNS_BADREPLY = -1414,	/* malformed or mismatched reply */
	TLSAD_EDNS_NOZONE = -1415,	/* no enclosing zone found */
	TLSAD_EDNS_NOSERVERS = -1416,	/* no authoritative server address found */
	TLSAD_EDNS_CNAMELOOP = -1417,	/* CNAME chain too long or looping */
	TLSAD_EDNS_LAGGING = -1418,	/* some authoritative server lags */
	TLSAD_EDNS_RFC7671 = -1419,	/* write refused: would break RFC 7671 sec. 8 */
	TLSAD_EDNS_EMPTYRRSET = -1420,	/* write refused: would empty the RRset */

	/* DNSSEC validation: -1500 */
	TLSAD_EDNSSEC_BOGUS = -1500,	/* validation failed */
	TLSAD_EDNSSEC_INSECURE = -1501,	/* zone is not signed or not anchored */
	TLSAD_EDNSSEC_ANCHOR = -1502,	/* trust anchor file unusable */
	TLSAD_EDNSSEC_RESOLVE = -1503,	/* validating lookup failed */
	TLSAD_EDNSSEC_MISSING = -1504,	/* validated RRset lacks the records */

	/* state and rollover: -1600 */
	TLSAD_ESTATE_CORRUPT = -1600,	/* state file does not parse */
	TLSAD_ESTATE_VERSION = -1601,	/* state file from an unknown version */
	TLSAD_EROLL_SUPERSEDED = -1602,	/* a newer renewal superseded this one */
	TLSAD_EROLL_FAILED = -1603,	/* the lineage is in the failed state */
	TLSAD_EROLL_BUSY = -1604,	/* a rollover is already running */

	/* deploy, reload, probe: -1700 */
	TLSAD_EDEPLOY = -1700,		/* could not write the deploy file */
	TLSAD_ERELOAD = -1701,		/* reload command failed */
	TLSAD_EPROBE_CONNECT = -1702,	/* probe could not connect */
	TLSAD_EPROBE_STARTTLS = -1703,	/* STARTTLS dialogue failed */
	TLSAD_EPROBE_TLS = -1704,	/* TLS handshake failed */
	TLSAD_EPROBE_DANE = -1705,	/* served chain matches no TLSA record */
	TLSAD_EPROBE_OLDKEY = -1706,	/* served key is not the new one */

	/* control socket: -1800 */
	TLSAD_ECTL_RUNNING = -1800,	/* another tlsad answers on the socket */
	TLSAD_ECTL_NODAEMON = -1801,	/* no tlsad answers on the socket */
	TLSAD_ECTL_PERM = -1802,	/* peer is not allowed this command */
	TLSAD_ECTL_PROTO = -1803,	/* malformed control frame */
};

/* A sentence for a code: negated errno values go to strerror(). Never NULL. */
const char	*tlsad_strerror(int code);

/* The enum name without the TLSAD_E prefix ("DNS_REFUSED"), for logs and JSON. */
const char	*tlsad_errname(int code);

#endif /* TLSAD_ERROR_H */
