#!/bin/bash
# t_dnsquery.sh -- dns_query and the TLSA/SOA readers against real servers
# (SOA fields, negative answers, UDP truncation -> TCP, RD to the resolver,
# refused ports), an hmac-sha512 key end to end, key files refused for their
# mode or algorithm, the unsigned zone, and a lagging (SIGSTOPped) secondary.
TB_KEYALGO=hmac-sha512
. "$(dirname "$0")/lib.sh"

TOOL=$TLSAD_BUILD/tests/tools/dnsupdate-tool
[ -x "$TOOL" ] || tb_die "$TOOL not built"

TB_TTL=4
TB_NEGTTL=2
tb_start_dns
Z=$TB_ZONE

q() { "$TOOL" query -p "$TB_PORT" -t 2000 "$@" 2>/dev/null; }
upd() {
	"$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_KEYFILE" -z "$Z" -t 3000 -T "$TB_TTL" "$@" 2>/dev/null
}

# --- SOA ------------------------------------------------------------------------------------
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	out=$(q -s "$a" "$Z" SOA) && rc=0 || rc=$?
	assert_eq "SOA at $a: exit 0" 0 "$rc"
	assert_contains "SOA at $a: authoritative" "$out" "rcode: NOERROR aa: 1"
	assert_contains "SOA at $a: fields" "$out" \
	    "soa: $Z serial $(tb_serial "$a") minimum 2 ttl 4 negttl 2 mname ns1.$Z answer"
done

# --- negative answer: NXDOMAIN with the SOA in the authority section ------------------------------
out=$(q -s "$TB_PRIMARY" "_25._tcp.none.$Z" TLSA) && rc=0 || rc=$?
assert_eq "NXDOMAIN: exit 1" 1 "$rc"
assert_contains "NXDOMAIN: named" "$out" "result: DNS_NXDOMAIN"
assert_contains "NXDOMAIN: SOA from the authority section" "$out" "negttl 2 mname ns1.$Z authority"

# --- an hmac-sha512 key end to end ------------------------------------------------------------
grep -q 'algorithm hmac-sha512;' "$TB_KEYFILE" || fail "the testbed key is not hmac-sha512"
R1="3 1 1 $(printf '01%.0s' $(seq 32))"
out=$(upd add "_25._tcp.mx.$Z" "$R1") && rc=0 || rc=$?
assert_eq "hmac-sha512 update: exit 0" 0 "$rc"
out=$(q -s "$TB_PRIMARY" "_25._tcp.mx.$Z" TLSA)
assert_contains "dns_pkt_tlsa reads the record" "$out" "tlsa: $R1"
assert_contains "dns_pkt_tlsa reads the TTL" "$out" "ttl: 4"
# The resolver may ask either server: let the secondary catch up first.
tb_wait_serial "$TB_SECONDARY" "$(tb_serial "$TB_PRIMARY")" 10 || fail "secondary lags"
out=$(q -s "$TB_RESOLVER" -r "_25._tcp.mx.$Z" TLSA) && rc=0 || rc=$?
assert_eq "RD query to the resolver: exit 0" 0 "$rc"
assert_contains "RD query to the resolver" "$out" "tlsa: $R1"
assert_contains "the resolver's answer is not authoritative" "$out" "aa: 0"

# --- a large RRset: UDP reply truncated, retried over TCP --------------------------------------------
ops=()
for i in $(seq 10 49); do
	ops+=(add "_25._tcp.big.$Z" "3 1 2 $(printf "$i%.0s" $(seq 64))")
done
out=$(upd "${ops[@]}") && rc=0 || rc=$?
assert_eq "40 records in one update: exit 0" 0 "$rc"
assert_contains "40 records in one update" "$out" "add: 40"
n=$(dig @"$TB_PRIMARY" -p "$TB_PORT" +norec +ignore +bufsize=1232 "_25._tcp.big.$Z" TLSA | grep -c 'flags:.* tc' || true)
assert_eq "the UDP answer is truncated" 1 "$n"
# Our reads send no cookie: "-E(0)T" is a TCP query from the tool, dig adds K.
before=$(grep -c 'big.*IN TLSA -E(0)T (' "$TB_QUERY_LOG" || true)
out=$(q -s "$TB_PRIMARY" "_25._tcp.big.$Z" TLSA) && rc=0 || rc=$?
after=$(grep -c 'big.*IN TLSA -E(0)T (' "$TB_QUERY_LOG" || true)
assert_eq "truncated: exit 0" 0 "$rc"
assert_eq "truncated: named logged one TCP query from us" "$((before + 1))" "$after"
assert_eq "truncated: all 40 records read over TCP" 40 "$(printf '%s\n' "$out" | grep -c '^tlsa: 3 1 2')"
assert_eq "truncated: same set as dig +tcp" \
    "$(dig @"$TB_PRIMARY" -p "$TB_PORT" +norec +tcp +short "_25._tcp.big.$Z" TLSA | wc -l)" \
    "$(printf '%s\n' "$out" | grep -c '^tlsa:')"

# --- refused ports -------------------------------------------------------------------------------
out=$("$TOOL" query -s "$TB_PRIMARY" -p "$((TB_PORT + 1))" -t 2000 "$Z" SOA 2>/dev/null) && rc=0 || rc=$?
assert_contains "UDP to a closed port: CONNREFUSED" "$out" "result: DNS_CONNREFUSED"

# --- key files refused ---------------------------------------------------------------------------------
cp "$TB_KEYFILE" "$TB_DIR/open.key"
chmod 0644 "$TB_DIR/open.key"
out=$("$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_DIR/open.key" -z "$Z" \
    add "_25._tcp.mx.$Z" "$R1" 2>/dev/null) && rc=0 || rc=$?
assert_eq "key file 0644: exit 1" 1 "$rc"
assert_contains "key file 0644: TSIG_PERMS" "$out" "result: TSIG_PERMS"
assert_contains "key file 0644: says how to fix" "$out" "chmod 0600 $TB_DIR/open.key"
tsig-keygen -a hmac-md5 md5key >"$TB_DIR/md5.key" 2>/dev/null
chmod 0600 "$TB_DIR/md5.key"
out=$("$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_DIR/md5.key" -z "$Z" \
    add "_25._tcp.mx.$Z" "$R1" 2>/dev/null) && rc=0 || rc=$?
assert_contains "hmac-md5 key: TSIG_ALGO" "$out" "result: TSIG_ALGO"
assert_contains "hmac-md5 key: reason" "$out" "hmac-md5 is refused"
assert_not_contains "no secret in the output" "$out$(cat "$TB_DIR"/*.out 2>/dev/null)" \
    "$(sed -n 's/.*secret "\(.*\)".*/\1/p' "$TB_KEYFILE")"

# --- the unsigned zone: same key, same primary --------------------------------------------------------
U=$(tb_unsigned_zone)
out=$("$TOOL" apply -s "$TB_PRIMARY" -p "$TB_PORT" -k "$TB_KEYFILE" -z "$U" \
    add "_25._tcp.mx.$U" "$R1" 2>/dev/null) && rc=0 || rc=$?
assert_eq "unsigned zone: update ok" 0 "$rc"
assert_eq "unsigned zone: primary serves it" "$R1" "$(tb_tlsa_at "$TB_PRIMARY" "_25._tcp.mx.$U")"
ad=$(dig @"$TB_RESOLVER" -p "$TB_PORT" +dnssec "_25._tcp.mx.$U" TLSA | grep -c 'flags:.* ad' || true)
assert_eq "unsigned zone: the resolver answers without AD" 0 "$ad"

# --- a paused secondary lags, then catches up ------------------------------------------------------------
tb_pause_secondary
R2="3 1 1 $(printf '02%.0s' $(seq 32))"
out=$(upd add "_25._tcp.mx.$Z" "$R2") && rc=0 || rc=$?
assert_eq "secondary paused: the update still succeeds" 0 "$rc"
s=$(tb_serial "$TB_PRIMARY")
out=$(q -s "$TB_SECONDARY" -t 500 "$Z" SOA) && rc=0 || rc=$?
assert_contains "secondary paused: a query to it times out" "$out" "result: DNS_TIMEOUT"
tb_resume_secondary
assert_ok "secondary resumed: reaches serial $s" tb_wait_serial "$TB_SECONDARY" "$s" 10
assert_ok "secondary resumed: serves both records" tb_wait_tlsa "$TB_SECONDARY" \
    "_25._tcp.mx.$Z" "$(printf '%s\n%s' "$R1" "$R2")" 5

tb_done
