/*
 * dnsquery.c -- one DNS exchange with one server address, and readers for
 * the TLSA and SOA data of a reply.
 *
 * Our own sockets (not ldns_resolver) so that every exchange has one
 * deadline and "connection refused" stays distinct from "timeout"; ldns
 * builds and parses the packets.  Replies are capped at DNS_REPLY_MAX.
 * No logging here: callers log once with their context.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tlsad/dnsquery.h"
#include "tlsad/error.h"
#include "tlsad/util.h"

/* Fill ss from a numeric v4 or v6 address. */
static int
make_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (addr == NULL)
		return TLSAD_EINVAL;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
		return 0;
	}
	return TLSAD_EINVAL;
}

static int
errno_to_dns(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return TLSAD_EDNS_CONNREFUSED;
	case ETIMEDOUT:
		return TLSAD_EDNS_TIMEOUT;
	default:
		return TLSAD_EDNS_NETWORK;
	}
}

/* Wait for events on fd until the deadline (monotonic ms). */
static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd	pfd;
	int64_t		left;
	int		n;

	for (;;) {
		left = deadline - util_now_mono_ms();
		if (left <= 0)
			return TLSAD_EDNS_TIMEOUT;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)(left > 60000 ? 60000 : left));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return errno_to_dns(errno);
		if (n > 0)
			return 0;
	}
}

static int
open_socket(const char *addr, uint16_t port, int type, int64_t deadline,
    int *fdp)
{
	struct sockaddr_storage	ss;
	socklen_t		sslen = 0, elen;
	int			fd = -1, rc, err = 0;

	*fdp = -1;
	rc = make_sockaddr(addr, port, &ss, &sslen);
	if (rc != 0)
		goto out;
	fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		rc = errno_to_dns(errno);
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		if (errno != EINPROGRESS) {
			rc = errno_to_dns(errno);
			goto out;
		}
		rc = wait_fd(fd, POLLOUT, deadline);
		if (rc != 0)
			goto out;
		elen = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1) {
			rc = errno_to_dns(errno);
			goto out;
		}
		if (err != 0) {
			rc = errno_to_dns(err);
			goto out;
		}
	}
	*fdp = fd;
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

static int
send_all(int fd, const uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t	n;
	int	rc;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc != 0)
				return rc;
			continue;
		}
		if (n == -1)
			return errno_to_dns(errno);
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	ssize_t	n;
	int	rc;

	while (len > 0) {
		n = recv(fd, p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = wait_fd(fd, POLLIN, deadline);
			if (rc != 0)
				return rc;
			continue;
		}
		if (n == -1)
			return errno_to_dns(errno);
		if (n == 0)
			return TLSAD_EDNS_NETWORK;	/* closed before the whole reply */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
dns_exchange_tcp(const char *addr, uint16_t port, const uint8_t *msg,
    size_t len, unsigned timeout_ms, uint8_t **reply, size_t *replylen)
{
	uint8_t	 hdr[2];
	uint8_t	*buf = NULL;
	size_t	 rlen;
	int64_t	 deadline;
	int	 fd = -1, rc;

	*reply = NULL;
	*replylen = 0;
	if (len > 65535 || len < 12) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	deadline = util_now_mono_ms() + (timeout_ms ? timeout_ms : DNS_TIMEOUT_DEFAULT_MS);
	rc = open_socket(addr, port, SOCK_STREAM, deadline, &fd);
	if (rc != 0)
		goto out;
	hdr[0] = (uint8_t)(len >> 8);
	hdr[1] = (uint8_t)len;
	rc = send_all(fd, hdr, 2, deadline);
	if (rc == 0)
		rc = send_all(fd, msg, len, deadline);
	if (rc != 0)
		goto out;
	rc = recv_all(fd, hdr, 2, deadline);
	if (rc != 0)
		goto out;
	rlen = ((size_t)hdr[0] << 8) | hdr[1];
	if (rlen < 12) {
		rc = TLSAD_EDNS_BADREPLY;
		goto out;
	}
	buf = malloc(rlen);
	if (buf == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	rc = recv_all(fd, buf, rlen, deadline);
	if (rc != 0)
		goto out;
	*reply = buf;
	*replylen = rlen;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return rc;
}

int
dns_exchange_udp(const char *addr, uint16_t port, const uint8_t *msg,
    size_t len, unsigned timeout_ms, uint8_t **reply, size_t *replylen)
{
	uint8_t	*buf = NULL;
	ssize_t	 n;
	int64_t	 deadline;
	int	 fd = -1, rc;

	*reply = NULL;
	*replylen = 0;
	if (len > 65535 || len < 12) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	deadline = util_now_mono_ms() + (timeout_ms ? timeout_ms : DNS_TIMEOUT_DEFAULT_MS);
	rc = open_socket(addr, port, SOCK_DGRAM, deadline, &fd);
	if (rc != 0)
		goto out;
	rc = send_all(fd, msg, len, deadline);
	if (rc != 0)
		goto out;
	buf = malloc(DNS_REPLY_MAX);
	if (buf == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (;;) {
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc != 0)
			goto out;
		n = recv(fd, buf, DNS_REPLY_MAX, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n == -1) {
			rc = errno_to_dns(errno);
			goto out;
		}
		/* A connected UDP socket only hears from addr:port; still check the ID. */
		if (n >= 12 && buf[0] == msg[0] && buf[1] == msg[1])
			break;
	}
	*reply = buf;
	*replylen = (size_t)n;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return rc;
}

int
dns_rcode_error(int rcode)
{
	switch (rcode) {
	case LDNS_RCODE_NOERROR:
		return 0;
	case LDNS_RCODE_FORMERR:
		return TLSAD_EDNS_FORMERR;
	case LDNS_RCODE_SERVFAIL:
		return TLSAD_EDNS_SERVFAIL;
	case LDNS_RCODE_NXDOMAIN:
		return TLSAD_EDNS_NXDOMAIN;
	case LDNS_RCODE_NOTIMPL:
		return TLSAD_EDNS_NOTIMP;
	case LDNS_RCODE_REFUSED:
		return TLSAD_EDNS_REFUSED;
	case LDNS_RCODE_YXDOMAIN:
		return TLSAD_EDNS_YXDOMAIN;
	case LDNS_RCODE_YXRRSET:
		return TLSAD_EDNS_YXRRSET;
	case LDNS_RCODE_NXRRSET:
		return TLSAD_EDNS_NXRRSET;
	case LDNS_RCODE_NOTAUTH:
		return TLSAD_EDNS_NOTAUTH;
	case LDNS_RCODE_NOTZONE:
		return TLSAD_EDNS_NOTZONE;
	default:
		return TLSAD_EDNS_RCODE;
	}
}

const char *
dns_rcode_name(int rcode)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
	};

	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	return "RCODE?";
}

/* Does reply answer query: same ID, QR set, same question? */
static int
reply_matches(const ldns_pkt *query, const ldns_pkt *reply)
{
	const ldns_rr	*q, *r;

	if (ldns_pkt_id(query) != ldns_pkt_id(reply) || !ldns_pkt_qr(reply))
		return 0;
	if (ldns_pkt_qdcount(reply) == 0)
		return 1;	/* some errors come without the question */
	q = ldns_rr_list_rr(ldns_pkt_question(query), 0);
	r = ldns_rr_list_rr(ldns_pkt_question(reply), 0);
	if (q == NULL || r == NULL)
		return 0;
	return ldns_rr_get_type(q) == ldns_rr_get_type(r) &&
	    ldns_dname_compare(ldns_rr_owner(q), ldns_rr_owner(r)) == 0;
}

int
dns_query(const char *addr, uint16_t port, const char *name,
    ldns_rr_type type, int rd, unsigned timeout_ms, ldns_pkt **out)
{
	ldns_rdf	*qname = NULL;
	ldns_pkt	*query = NULL, *reply = NULL;
	uint8_t		*wire = NULL, *rbuf = NULL;
	size_t		 wlen = 0, rlen = 0;
	int		 rc, tcp;

	*out = NULL;
	qname = ldns_dname_new_frm_str(name);
	if (qname == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	query = ldns_pkt_query_new(qname, type, LDNS_RR_CLASS_IN,
	    rd ? LDNS_RD : 0);
	qname = NULL;		/* owned by query now */
	if (query == NULL) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	ldns_pkt_set_id(query, (uint16_t)arc4random());
	ldns_pkt_set_edns_udp_size(query, 1232);
	if (ldns_pkt2wire(&wire, query, &wlen) != LDNS_STATUS_OK) {
		rc = TLSAD_ENOMEM;
		goto out;
	}
	for (tcp = 0; tcp < 2; tcp++) {
		if (tcp)
			rc = dns_exchange_tcp(addr, port, wire, wlen, timeout_ms,
			    &rbuf, &rlen);
		else
			rc = dns_exchange_udp(addr, port, wire, wlen, timeout_ms,
			    &rbuf, &rlen);
		if (rc != 0)
			goto out;
		if (ldns_wire2pkt(&reply, rbuf, rlen) != LDNS_STATUS_OK ||
		    !reply_matches(query, reply)) {
			rc = TLSAD_EDNS_BADREPLY;
			goto out;
		}
		free(rbuf);
		rbuf = NULL;
		if (!ldns_pkt_tc(reply))
			break;
		ldns_pkt_free(reply);
		reply = NULL;
	}
	if (reply == NULL) {
		rc = TLSAD_EDNS_BADREPLY;	/* truncated over TCP */
		goto out;
	}
	rc = dns_rcode_error(ldns_pkt_get_rcode(reply));
	*out = reply;
	reply = NULL;
out:
	ldns_rdf_deep_free(qname);
	ldns_pkt_free(query);
	ldns_pkt_free(reply);
	free(wire);
	free(rbuf);
	return rc;
}

int
dns_rr_to_tlsa(const ldns_rr *rr, struct tlsa_rr *out)
{
	struct tlsa_param	 p;
	const ldns_rdf		*d;
	size_t			 i;

	if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA || ldns_rr_rd_count(rr) != 4)
		return TLSAD_EDNS_BADREPLY;
	for (i = 0; i < 3; i++)
		if (ldns_rdf_size(ldns_rr_rdf(rr, i)) != 1)
			return TLSAD_EDNS_BADREPLY;
	p.usage = ldns_rdf2native_int8(ldns_rr_rdf(rr, 0));
	p.selector = ldns_rdf2native_int8(ldns_rr_rdf(rr, 1));
	p.mtype = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
	d = ldns_rr_rdf(rr, 3);
	if (ldns_rdf_size(d) == 0 || ldns_rdf_size(d) > TLSA_DATA_MAX)
		return TLSAD_EDNS_BADREPLY;
	return tlsa_rr_set(out, p, ldns_rdf_data(d), ldns_rdf_size(d));
}

int
dns_tlsa_to_rr(const char *owner, uint32_t ttl, const struct tlsa_rr *t,
    ldns_rr **out)
{
	ldns_rr		*rr = NULL;
	ldns_rdf	*rdf = NULL;
	uint8_t		 fields[3];
	int		 i, rc = TLSAD_ENOMEM;

	*out = NULL;
	fields[0] = t->param.usage;
	fields[1] = t->param.selector;
	fields[2] = t->param.mtype;
	if (t->len == 0 || t->len > TLSA_DATA_MAX) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	rr = ldns_rr_new();
	if (rr == NULL)
		goto out;
	rdf = ldns_dname_new_frm_str(owner);
	if (rdf == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	ldns_rr_set_owner(rr, rdf);
	rdf = NULL;
	ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA);
	ldns_rr_set_class(rr, LDNS_RR_CLASS_IN);
	ldns_rr_set_ttl(rr, ttl);
	for (i = 0; i < 4; i++) {
		if (i < 3)
			rdf = ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, fields[i]);
		else
			rdf = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_HEX, t->len, t->data);
		if (rdf == NULL || !ldns_rr_push_rdf(rr, rdf))
			goto out;
		rdf = NULL;
	}
	*out = rr;
	rr = NULL;
	rc = 0;
out:
	ldns_rdf_deep_free(rdf);
	ldns_rr_free(rr);
	return rc;
}

int
dns_pkt_tlsa(const ldns_pkt *pkt, const char *owner, struct tlsa_rrset *set,
    uint32_t *ttl)
{
	ldns_rdf	*want = NULL;
	ldns_rr_list	*an;
	struct tlsa_rr	 t;
	uint32_t	 minttl = 0;
	size_t		 i;
	int		 rc = 0, seen = 0;

	memset(&t, 0, sizeof(t));
	want = ldns_dname_new_frm_str(owner);
	if (want == NULL) {
		rc = TLSAD_EINVAL;
		goto out;
	}
	an = ldns_pkt_answer(pkt);
	for (i = 0; an != NULL && i < ldns_rr_list_rr_count(an); i++) {
		const ldns_rr	*rr = ldns_rr_list_rr(an, i);

		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TLSA ||
		    ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
		    ldns_dname_compare(ldns_rr_owner(rr), want) != 0)
			continue;
		rc = dns_rr_to_tlsa(rr, &t);
		if (rc != 0)
			goto out;
		rc = tlsa_rrset_add(set, &t);
		tlsa_rr_clear(&t);
		if (rc != 0)
			goto out;
		if (!seen || ldns_rr_ttl(rr) < minttl)
			minttl = ldns_rr_ttl(rr);
		seen = 1;
	}
	rc = 0;
out:
	if (ttl != NULL)
		*ttl = minttl;
	tlsa_rr_clear(&t);
	ldns_rdf_deep_free(want);
	return rc;
}

static void
rdf_to_buf(const ldns_rdf *rdf, char *buf, size_t len)
{
	char	*s = ldns_rdf2str(rdf);

	snprintf(buf, len, "%s", s != NULL ? s : "");
	free(s);
}

static const ldns_rr *
find_soa(const ldns_rr_list *list)
{
	size_t	i;

	for (i = 0; list != NULL && i < ldns_rr_list_rr_count(list); i++) {
		const ldns_rr	*rr = ldns_rr_list_rr(list, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
		    ldns_rr_rd_count(rr) == 7)
			return rr;
	}
	return NULL;
}

int
dns_pkt_soa(const ldns_pkt *pkt, struct dns_soa *soa)
{
	const ldns_rr	*rr;

	memset(soa, 0, sizeof(*soa));
	rr = find_soa(ldns_pkt_answer(pkt));
	soa->in_answer = rr != NULL;
	if (rr == NULL)
		rr = find_soa(ldns_pkt_authority(pkt));
	if (rr == NULL)
		return TLSAD_EDNS_BADREPLY;
	rdf_to_buf(ldns_rr_owner(rr), soa->owner, sizeof(soa->owner));
	rdf_to_buf(ldns_rr_rdf(rr, 0), soa->mname, sizeof(soa->mname));
	soa->serial = ldns_rdf2native_int32(ldns_rr_rdf(rr, 2));
	soa->minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
	soa->ttl = ldns_rr_ttl(rr);
	soa->negttl = soa->ttl < soa->minimum ? soa->ttl : soa->minimum;
	return 0;
}
