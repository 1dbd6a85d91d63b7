#!/bin/bash
# bench-publish.sh -- what `tlsactl publish` costs on the local testbed:
# the time from sending the UPDATE to validated propagation on every
# authoritative address, and the DNS messages a publish of 1, 10 and 100
# names of one zone costs.  A benchmark, not a test: it prints a Markdown
# table (the figures in docs/PERFORMANCE.md come from it).
#
# Usage (root: the testbed adds loopback aliases):
#   TLSAD_BUILD=build TLSAD_SRC=. bash tests/bench/bench-publish.sh [RUNS]
# Each of RUNS rounds renews the lineage, publishes (measured) and retires
# the old records, for each size.  Messages are counted where they arrive:
# the query logs of the primary and the secondary named (every query from
# tlsactl, from its validating lookups through libunbound stubs, and from
# the resolver on its behalf), the primary's update log (UPDATE messages),
# and tlsactl's own count of the queries it sent (to the resolver too).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${1:-5}
. "$here/../integration/lib.sh"
. "$here/../integration/lineage_lib.sh"

T=$TLSAD_BUILD/tlsactl
[ -x "$T" ] || tb_die "no tlsactl in $TLSAD_BUILD"
tb_start_dns
L=mx.dane.example
conf=$TB_DIR/tlsad.conf

qcount() { [ -f "$1" ] && grep -c 'query:' "$1" || echo 0; }

printf '| names | publish: UPDATE to validated propagation (s), median [min-max] | UPDATE msgs | queries at primary | queries at secondary | queries sent by tlsactl | validating lookups |\n'
printf '|---:|---|---:|---:|---:|---:|---:|\n'
# A lineage holds at most 64 tlsa-name entries (tlsad.conf limit): 100
# names are two lineages of 50 in the one zone, published one after the
# other (two UPDATEs); their times are added.
L2=mx-b.dane.example
for n in 1 10 64 100; do
	names=""
	per=$n
	[ "$n" -gt 64 ] && per=$((n / 2))
	for i in $(seq 1 "$per"); do names="$names _25._tcp.mx$i.$TB_ZONE"; done
	# shellcheck disable=SC2086
	tl_write_conf "$conf" "$L" $names
	lineages=$L
	if [ "$n" -gt 64 ]; then
		lineages="$L $L2"
		{
			printf 'lineage:\n    name: %s\n' "$L2"
			for i in $(seq $((per + 1)) "$n"); do
				printf '    tlsa-name: _25._tcp.mx%s.%s\n' "$i" "$TB_ZONE"
			done
			printf '    update-server: %s@%s\n' "$TB_PRIMARY" "$TB_PORT"
		} >>"$conf"
	fi
	times=""
	upd=0 qp=0 qs=0 qt=0 vl=0
	for _ in $(seq 1 "$RUNS"); do
		u0=$(tb_update_count)
		p0=$(qcount "$TB_QUERY_LOG")
		s0=$(qcount "$TB_SECONDARY_QUERY_LOG")
		t=0
		for l in $lineages; do
			tl_renew "$l" >/dev/null
			out=$("$T" -v -c "$conf" publish "$l" 2>&1) || {
				printf '%s\n' "$out" >&2
				tb_die "publish of $n names failed"
			}
			t1=$(printf '%s\n' "$out" | sed -n 's/.*, \([0-9.]*\) s after the update).*/\1/p')
			t=$(awk -v a="$t" -v b="$t1" 'BEGIN { printf "%.2f", a + b }')
			qt=$((qt + $(printf '%s\n' "$out" | sed -n 's/.*publish: \([0-9]*\) DNS queries sent.*/\1/p')))
			vl=$((vl + $(printf '%s\n' "$out" | sed -n 's/.*queries sent, \([0-9]*\) validating.*/\1/p')))
		done
		# named writes its query log asynchronously: let it settle.
		sleep 0.5
		times="$times $t"
		upd=$((upd + $(tb_update_count) - u0))
		qp=$((qp + $(qcount "$TB_QUERY_LOG") - p0))
		qs=$((qs + $(qcount "$TB_SECONDARY_QUERY_LOG") - s0))
		for l in $lineages; do
			"$T" -c "$conf" retire "$l" >/dev/null 2>&1 || tb_die "retire of $n names failed"
		done
	done
	# shellcheck disable=SC2086
	stats=$(printf '%s\n' $times | sort -n | awk '{ a[NR] = $1 } END {
		printf "%.2f [%.2f-%.2f]", a[int((NR + 1) / 2)], a[1], a[NR] }')
	printf '| %d | %s | %d | %d | %d | %d | %d |\n' "$n" "$stats" \
	    $((upd / RUNS)) $((qp / RUNS)) $((qs / RUNS)) $((qt / RUNS)) $((vl / RUNS))
done
pass "benchmark ran"
tb_done >/dev/null
