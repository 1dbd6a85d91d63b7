#!/bin/bash
# t_cname.sh -- RFC 7671 section 7: a TLSA owner name that is a CNAME to a
# shared target.  tlsactl says so, updates the target (never the CNAME
# owner), proves propagation at the target on every address, and the
# validated lookup of the owner name (following the CNAME) returns the
# records secure.  Checked with dig at each address and at the resolver.
TB_ZONE_EXTRA='_25._tcp.mx	IN CNAME _dane
_25._tcp.mx2	IN CNAME _dane'
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lineage_lib.sh"

T=$TLSAD_BUILD/tlsactl
[ -x "$T" ] || tb_die "no tlsactl in $TLSAD_BUILD"
tb_start_dns

run() {
	rc=0
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/#   | /'
}

L=mx.dane.example
N=_25._tcp.mx.$TB_ZONE
N2=_25._tcp.mx2.$TB_ZONE
TGT=_dane.$TB_ZONE
conf=$TB_DIR/tlsad.conf
tl_write_conf "$conf" "$L" "$N" "$N2"
tl_renew "$L" >/dev/null
rr=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")
u0=$(tb_update_count)

run "$T" -c "$conf" publish "$L"
assert_eq "cname: publish exit 0" 0 "$rc"
assert_contains "cname: says the owner is a CNAME and what it updates" "$out" \
    "$N is a CNAME to $TGT (RFC 7671 section 7): updating $TGT"
assert_contains "cname: both owners share one target: one record added" "$out" "1 added, 0 deleted (1 message)"
assert_eq "cname: one UPDATE" "$((u0 + 1))" "$(tb_update_count)"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "cname: $a serves the record at the target" "$rr" "$(tb_tlsa_at "$a" "$TGT")"
	cn=$(tb_dig "$a" "$N" CNAME)
	assert_eq "cname: $a still has the CNAME at the owner" "$TGT" "$cn"
done
# The resolver may hold the negative answer for the target until the hold
# (negative TTL x 1 + 1 s) has passed: that is what the hold is for.
assert_ok "cname: within the hold the resolver follows the CNAME to the record" \
    tb_wait_tlsa "$TB_RESOLVER" "$N" "$rr" $((TB_NEGTTL + 3))
ad=$(dig @"$TB_RESOLVER" -p "$TB_PORT" +dnssec +time=2 +tries=1 "$N" TLSA)
assert_contains "cname: the resolver validates the owner name (AD)" "$ad" " ad"

run "$T" -c "$conf" dns "$L"
assert_eq "cname: dns exit 0" 0 "$rc"
assert_contains "cname: dns shows the target" "$out" "name $N: a CNAME to $TGT"
assert_contains "cname: dns validates the owner name" "$out" "validation $N: secure, 1 record"

tb_done
