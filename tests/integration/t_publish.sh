#!/bin/bash
# t_publish.sh -- tlsactl publish / retire / dns against the real testbed:
# publish then validate, dry runs, idempotent re-runs, a renewal (two
# records side by side), retire of the old record, a retire that would
# empty the RRset (refused), a publish the RFC 7671 section 8 rule refuses,
# and two names in one zone costing one UPDATE.  Every result is checked
# with dig at each authoritative address and at the validating resolver.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lineage_lib.sh"

T=$TLSAD_BUILD/tlsactl
[ -x "$T" ] || tb_die "no tlsactl in $TLSAD_BUILD"
tb_start_dns

L=mx.dane.example
N1=_25._tcp.mx.dane.example.
N2=_465._tcp.mx.dane.example.
conf=$TB_DIR/tlsad.conf
tl_write_conf "$conf" "$L" "$N1"
tl_renew "$L" >/dev/null
rr1=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")

run() {	# run CMD...: sets out (stdout+stderr) and rc
	rc=0
	out=$("$@" 2>&1) || rc=$?
	printf '%s\n' "$out" | sed 's/^/#   | /'
}

# dns before anything: secure NXDOMAIN, hold from the negative TTL.
run "$T" -c "$conf" dns "$L"
assert_eq "dns: exit 0 on an empty, secure name" 0 "$rc"
assert_contains "dns: validation secure" "$out" "validation $N1: secure, 0 records"
assert_contains "dns: hold from the negative TTL" "$out" "negative answer (no TLSA RRset before) for $TB_NEGTTL s"

# dry run: computes, sends nothing.
u0=$(tb_update_count)
run "$T" -c "$conf" publish --dry-run "$L"
assert_eq "publish --dry-run: exit 0" 0 "$rc"
assert_contains "publish --dry-run: says what it would add" "$out" "would add $rr1"
assert_eq "publish --dry-run: no UPDATE reached the primary" "$u0" "$(tb_update_count)"
assert_eq "publish --dry-run: primary unchanged" "" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"

# publish: one UPDATE, then both servers and the resolver serve it, validated.
s0=$(tb_serial "$TB_PRIMARY")
run "$T" -c "$conf" publish "$L"
assert_eq "publish: exit 0" 0 "$rc"
assert_contains "publish: one message" "$out" "1 added, 0 deleted (1 message)"
assert_contains "publish: propagated and validated" "$out" "propagated and validated"
assert_contains "publish: prints the hold" "$out" "hold until "
assert_contains "publish: hold from the negative TTL x 1 + 1 s" "$out" "= $((TB_NEGTTL + 1)) s after"
assert_eq "publish: one UPDATE at the primary" "$((u0 + 1))" "$(tb_update_count)"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "publish: $a serves the record" "$rr1" "$(tb_tlsa_at "$a" "$N1")"
	s=$(tb_serial "$a")
	assert_ok "publish: $a serial $s > $s0" [ "$s" -gt "$s0" ]
done
ad=$(dig @"$TB_RESOLVER" -p "$TB_PORT" +dnssec +time=2 +tries=1 "$N1" TLSA)
assert_contains "publish: the validating resolver sets AD" "$ad" " ad"

# idempotent: nothing sent, still success.
u1=$(tb_update_count)
run "$T" -c "$conf" publish "$L"
assert_eq "publish again: exit 0" 0 "$rc"
assert_contains "publish again: record present" "$out" "present $rr1"
assert_contains "publish again: nothing to send" "$out" "(nothing to send) (0 messages)"
assert_eq "publish again: no UPDATE" "$u1" "$(tb_update_count)"

# renewal: the new record goes beside the old one.
tl_renew "$L" >/dev/null
rr2=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")
run "$T" -c "$conf" publish "$L"
assert_eq "publish renewal: exit 0" 0 "$rc"
assert_contains "publish renewal: hold from the old RRset's TTL" "$out" "the old TLSA RRset for $TB_TTL s"
both=$(printf '%s\n%s\n' "$rr1" "$rr2" | sort)
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "publish renewal: $a serves both records" "$both" "$(tb_tlsa_at "$a" "$N1")"
done
run "$T" -c "$conf" dns "$L"
assert_eq "dns: exit 0 with both records" 0 "$rc"
assert_contains "dns: marks the current record" "$out" "$rr2  (current)"
assert_contains "dns: validated answer has 2 records" "$out" "secure, 2 records"

# the MTA still serves the old chain: retire --served keeps its record.
u2=$(tb_update_count)
run "$T" -c "$conf" retire --served "$TB_DIR/archive/$L/fullchain1.pem" "$L"
assert_eq "retire --served OLD: exit 0" 0 "$rc"
assert_contains "retire --served OLD: keeps the served key's record" "$out" "keep $rr1"
assert_contains "retire --served OLD: nothing to retire" "$out" "nothing to retire"
assert_eq "retire --served OLD: no UPDATE" "$u2" "$(tb_update_count)"
assert_eq "retire --served OLD: both records still served" "$both" "$(tb_tlsa_at "$TB_SECONDARY" "$N1")"

# retire --dry-run, then retire: the old record goes, one record at a time.
u2=$(tb_update_count)
run "$T" -c "$conf" retire -n "$L"
assert_eq "retire --dry-run: exit 0" 0 "$rc"
assert_contains "retire --dry-run: names the old record" "$out" "would retire $rr1"
assert_eq "retire --dry-run: no UPDATE" "$u2" "$(tb_update_count)"
run "$T" -c "$conf" retire "$L"
assert_eq "retire: exit 0" 0 "$rc"
assert_contains "retire: keeps the current record" "$out" "keep $rr2"
assert_contains "retire: 1 deleted" "$out" "0 added, 1 deleted (1 message)"
assert_contains "retire: confirmed" "$out" "retired: no authoritative address"
for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
	assert_eq "retire: $a serves only the new record" "$rr2" "$(tb_tlsa_at "$a" "$N1")"
done
u3=$(tb_update_count)
run "$T" -c "$conf" retire "$L"
assert_eq "retire again: exit 0" 0 "$rc"
assert_contains "retire again: nothing to retire" "$out" "nothing to retire"
assert_eq "retire again: no UPDATE" "$u3" "$(tb_update_count)"

# a lineage renewed but not published: retiring would empty the RRset.
tl_renew "$L" >/dev/null
run "$T" -c "$conf" retire "$L"
assert_eq "retire that would empty the RRset: exit 2" 2 "$rc"
assert_contains "retire that would empty: says why" "$out" "every record would go"
assert_eq "retire that would empty: RRset unchanged" "$rr2" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
assert_eq "retire that would empty: no UPDATE" "$u3" "$(tb_update_count)"

# section 8: the MTA serves a chain nothing in the new RRset would match.
other=$TLSAD_SRC/tests/data/certs/p256-fullchain.pem
[ -f "$other" ] || tb_die "missing $other"
tl_write_conf "$conf" "$L" "$N2"
run "$T" -c "$conf" publish --served "$other" "$L"
assert_eq "publish breaking RFC 7671 sec. 8: exit 2" 2 "$rc"
assert_contains "publish breaking sec. 8: refused" "$out" "refused, nothing changed"
assert_eq "publish breaking sec. 8: nothing written" "" "$(tb_tlsa_at "$TB_PRIMARY" "$N2")"

# two names of one zone: one UPDATE carries both.
tl_write_conf "$conf" "$L" "$N1" "$N2"
u4=$(tb_update_count)
run "$T" -c "$conf" publish "$L"
assert_eq "publish two names: exit 0" 0 "$rc"
assert_eq "publish two names: one UPDATE message" "$((u4 + 1))" "$(tb_update_count)"
rr3=$(tl_rr311 "$TB_DIR/live/$L/cert.pem")
assert_eq "publish two names: $N2 at the secondary" "$rr3" "$(tb_tlsa_at "$TB_SECONDARY" "$N2")"
assert_eq "publish two names: $N1 has old and new" "$(printf '%s\n%s\n' "$rr2" "$rr3" | sort)" \
    "$(tb_tlsa_at "$TB_SECONDARY" "$N1")"

# a TSIG key the server knows but that may not update: REFUSED, explained.
tl_renew "$L" >/dev/null
u5=$(tb_update_count)
before=$(tb_tlsa_at "$TB_PRIMARY" "$N1")
TL_KEYFILE=$TB_OTHER_KEYFILE tl_write_conf "$conf" "$L" "$N1"
run "$T" -c "$conf" publish "$L"
assert_eq "publish with a key the policy refuses: exit 1" 1 "$rc"
assert_contains "publish with a refused key: says check update-policy" "$out" "update-policy"
assert_eq "publish with a refused key: RRset unchanged" "$before" "$(tb_tlsa_at "$TB_PRIMARY" "$N1")"
assert_eq "publish with a refused key: one UPDATE, refused" "$((u5 + 1))" "$(tb_update_count)"

# a lineage caught mid-renewal (a live/ link missing): refused, nothing sent.
TL_KEYFILE='' tl_write_conf "$conf" "$L" "$N1"
mv "$TB_DIR/live/$L/chain.pem" "$TB_DIR/chain.pem.away"
u6=$(tb_update_count)
run "$T" -c "$conf" publish "$L"
assert_eq "publish of an incomplete lineage: exit 1" 1 "$rc"
assert_contains "publish of an incomplete lineage: names the lineage" "$out" "lineage $TB_DIR/live/$L"
assert_eq "publish of an incomplete lineage: no UPDATE" "$u6" "$(tb_update_count)"
mv "$TB_DIR/chain.pem.away" "$TB_DIR/live/$L/chain.pem"

# usage errors
run "$T" -c "$conf" publish
assert_eq "publish without a lineage: exit 64" 64 "$rc"
run "$T" -c "$conf" publish no.such.lineage
assert_eq "publish of an unknown lineage: exit 1" 1 "$rc"
assert_contains "publish of an unknown lineage: says so" "$out" "no.such.lineage"

tb_done
