/*
 * dnsquery.h -- plain DNS queries to one server address, and helpers that
 * pull TLSA RRsets and SOA fields out of a reply.
 *
 * The transport is our own (not ldns_resolver's) so that "connection
 * refused" and "timeout" stay distinct errors and every exchange has one
 * deadline.  ldns builds and parses the packets.  Replies are capped at
 * DNS_REPLY_MAX bytes.  These functions do not log: callers do, once, with
 * their context (lineage, name).
 */
#ifndef TLSAD_DNSQUERY_H
#define TLSAD_DNSQUERY_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include "tlsad/tlsa.h"

/* Largest reply accepted (TCP length prefix allows 65535). */
#define DNS_REPLY_MAX		65535
/* Default deadline for one exchange. */
#define DNS_TIMEOUT_DEFAULT_MS	5000

/*
 * Send the wire-format message (len bytes) to addr (numeric IPv4 or IPv6)
 * port over TCP and read one reply within timeout_ms in total.  On success
 * *reply is a malloc'ed buffer (caller frees) of *replylen bytes.  Errors:
 * TLSAD_EDNS_CONNREFUSED, TLSAD_EDNS_TIMEOUT, TLSAD_EDNS_NETWORK (any other
 * socket error, or the server closed early), TLSAD_EDNS_BADREPLY (reply too
 * short), TLSAD_EINVAL (addr is not a numeric address).
 */
int	dns_exchange_tcp(const char *addr, uint16_t port, const uint8_t *msg,
	    size_t len, unsigned timeout_ms, uint8_t **reply, size_t *replylen);

/*
 * The same over UDP: one datagram out, waits for a reply whose ID matches
 * the query's (others are ignored) until timeout_ms.  An ICMP port
 * unreachable comes back as TLSAD_EDNS_CONNREFUSED.
 */
int	dns_exchange_udp(const char *addr, uint16_t port, const uint8_t *msg,
	    size_t len, unsigned timeout_ms, uint8_t **reply, size_t *replylen);

/*
 * Ask addr@port for (name, type) class IN with RD = rd (0 for authoritative
 * servers), over UDP with EDNS0 (DO bit clear) and TCP retry when the reply
 * is truncated; a random ID, checked along with the question.
 * When a reply was received and parsed, *out is set (caller frees with
 * ldns_pkt_free) whatever its RCODE, and the return value is
 * dns_rcode_error(rcode): 0 for NOERROR, TLSAD_EDNS_NXDOMAIN, ... Otherwise
 * *out is NULL and the return is a transport error as for dns_exchange_tcp.
 */
int	dns_query(const char *addr, uint16_t port, const char *name,
	    ldns_rr_type type, int rd, unsigned timeout_ms, ldns_pkt **out);

/*
 * Map a DNS RCODE (0..15) to TLSAD_EDNS_*: 0 -> 0, 1 FORMERR, 2 SERVFAIL,
 * 3 NXDOMAIN, 4 NOTIMP, 5 REFUSED, 6 YXDOMAIN, 7 YXRRSET, 8 NXRRSET,
 * 9 NOTAUTH, 10 NOTZONE, anything else TLSAD_EDNS_RCODE.
 */
int	dns_rcode_error(int rcode);

/* "NOERROR", "REFUSED", ... by RFC name; "RCODE?" for an unassigned value. Never NULL. */
const char *dns_rcode_name(int rcode);

/*
 * The TLSA records of owner (absolute, case-insensitive) in the answer
 * section of pkt, added to set (which must be initialised; duplicates are
 * merged).  *ttl (if not NULL) gets the smallest TTL among them, or 0 when
 * there are none.  Records with malformed rdata give TLSAD_EDNS_BADREPLY.
 * CNAMEs are not followed (the caller asked an authoritative server RD=0).
 */
int	dns_pkt_tlsa(const ldns_pkt *pkt, const char *owner,
	    struct tlsa_rrset *set, uint32_t *ttl);

/* What an SOA record says, and where it was found. */
struct dns_soa {
	char		mname[256];	/* primary name server, absolute */
	char		owner[256];	/* the zone apex, absolute */
	uint32_t	serial;
	uint32_t	minimum;	/* SOA MINIMUM field */
	uint32_t	ttl;		/* TTL of the SOA record itself */
	uint32_t	negttl;		/* RFC 2308 negative TTL: min(ttl, minimum) */
	int		in_answer;	/* 1: answer section, 0: authority section */
};

/*
 * The first SOA record in the answer section of pkt, else in the authority
 * section (as a negative answer carries it).  TLSAD_EDNS_BADREPLY when
 * there is none.
 */
int	dns_pkt_soa(const ldns_pkt *pkt, struct dns_soa *soa);

/*
 * Parse "3 1 1 hex" presentation rdata of a TLSA ldns_rr into a tlsa_rr
 * (zeroed by the caller).  TLSAD_EDNS_BADREPLY for a malformed record.
 */
int	dns_rr_to_tlsa(const ldns_rr *rr, struct tlsa_rr *out);

/*
 * Build an ldns TLSA RR owner/ttl/IN from a tlsa_rr.  *out is the caller's
 * (ldns_rr_free).
 */
int	dns_tlsa_to_rr(const char *owner, uint32_t ttl,
	    const struct tlsa_rr *rr, ldns_rr **out);

#endif /* TLSAD_DNSQUERY_H */
