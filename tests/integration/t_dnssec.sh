#!/bin/bash
# t_dnssec.sh -- DANE without DNSSEC is no DANE: publish and retire refuse
# (exit 2) and change nothing when the validated answer is bogus (a wrong
# trust anchor) or insecure (an unsigned zone); tlsactl dns reports both;
# an unreadable trust anchor is a plain failure (exit 1).  Checked with dig
# at the primary: nothing was written.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lineage_lib.sh"

T=$TLSAD_BUILD/tlsactl
[ -x "$T" ] || tb_die "no tlsactl in $TLSAD_BUILD"
command -v dnssec-keygen >/dev/null || PATH=$PATH:/usr/sbin
tb_start_dns

run() {
	rc=0
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/#   | /'
}

L=mx.dane.example
N=_25._tcp.mx.dane.example.
conf=$TB_DIR/tlsad.conf
tl_renew "$L" >/dev/null
u0=$(tb_update_count)

# A wrong trust anchor: a key of the right zone that never signed it.
mkdir -p "$TB_DIR/wrongkey"
k=$(dnssec-keygen -q -a ECDSAP256SHA256 -f KSK -K "$TB_DIR/wrongkey" "$TB_ZONE") ||
    tb_die "dnssec-keygen failed"
grep -v '^;' "$TB_DIR/wrongkey/$k.key" >"$TB_DIR/wrong-anchor.key"
TL_ANCHOR=$TB_DIR/wrong-anchor.key tl_write_conf "$conf" "$L" "$N"
run "$T" -c "$conf" publish "$L"
assert_eq "bogus: publish exit 2" 2 "$rc"
assert_contains "bogus: publish says bogus" "$out" "DNSSEC validation failed (bogus)"
assert_contains "bogus: publish refused, nothing changed" "$out" "refused, nothing changed"
assert_eq "bogus: nothing at the primary" "" "$(tb_tlsa_at "$TB_PRIMARY" "$N")"
assert_eq "bogus: no UPDATE" "$u0" "$(tb_update_count)"
run "$T" -c "$conf" dns "$L"
assert_eq "bogus: dns exit 2" 2 "$rc"
assert_contains "bogus: dns shows BOGUS" "$out" "validation $N: BOGUS"
run "$T" -c "$conf" retire "$L"
assert_eq "bogus: retire exit 2" 2 "$rc"

# An unsigned zone: insecure.
NP=_25._tcp.mx.$TB_UNSIGNED_ZONE
tl_write_conf "$conf" "$L" "$NP"
run "$T" -c "$conf" publish "$L"
assert_eq "insecure: publish exit 2" 2 "$rc"
assert_contains "insecure: publish says insecure" "$out" "the answer is insecure"
assert_eq "insecure: nothing at the primary" "" "$(tb_tlsa_at "$TB_PRIMARY" "$NP")"
assert_eq "insecure: no UPDATE" "$u0" "$(tb_update_count)"
run "$T" -c "$conf" dns "$L"
assert_eq "insecure: dns exit 2" 2 "$rc"
assert_contains "insecure: dns shows INSECURE" "$out" "validation $NP: INSECURE"

# A trust anchor file that cannot be read.
TL_ANCHOR=$TB_DIR/no-such-anchor.key tl_write_conf "$conf" "$L" "$N"
run "$T" -c "$conf" publish "$L"
assert_eq "no anchor: publish exit 1" 1 "$rc"
assert_contains "no anchor: names the file" "$out" "no-such-anchor.key"
assert_eq "no anchor: no UPDATE" "$u0" "$(tb_update_count)"

# And with the right anchor the same lineage publishes (the refusals were
# about DNSSEC, not about the rest of the setup).
tl_write_conf "$conf" "$L" "$N"
run "$T" -c "$conf" publish "$L"
assert_eq "good anchor: publish exit 0" 0 "$rc"
assert_eq "good anchor: the secondary serves it" "$(tl_rr311 "$TB_DIR/live/$L/cert.pem")" \
    "$(tb_tlsa_at "$TB_SECONDARY" "$N")"

tb_done
