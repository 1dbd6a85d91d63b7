#!/bin/bash
# bench-rollover.sh -- what a rollover by the running daemon costs beyond
# the hold the DNS imposes, stage by stage, on the local testbed: BIND 9
# primary and secondary (NOTIFY/IXFR, dnssec-policy signed zone), a
# validating Unbound, a real Postfix reading tlsad's deploy file, and
# `tlsad` itself.  A benchmark, not a test: it prints a Markdown table (the
# figures in docs/PERFORMANCE.md come from it) and asserts only that each
# rollover ended where it must (idle, only the new record, Postfix serving
# the new key), so that a broken run cannot pass for a fast one.
#
# Usage (root on Debian 12, after tests/install-deps.sh and a build: the
# testbed adds loopback aliases and runs Postfix):
#   TLSAD_BUILD=build TLSAD_SRC=. bash tests/bench/bench-rollover.sh [RUNS]
# RUNS rollovers (default 7) of one lineage, each a certbot-like renewal
# (a new P-256 key; the four live/ links replaced one at a time, 0.2 s
# apart).  The daemon runs with the test settings of the end-to-end tests:
# record TTL 3 s, ttl-multiplier 1, hold-margin 1 s (so a hold of 4 s),
# poll-min 100 ms, poll-max 500 ms, quiet-period 500 ms, log-level debug.
#
# Timestamps: tlsad's stderr goes through a small Python filter that
# prefixes every line with the wall-clock time it was read (tlsad flushes
# each line); the stage transitions are tlsad's info lines
# "NAME: STAGE -> STAGE: reason".  t0 (the first check that saw the new
# record on every authoritative address) and hold-until come from the
# lineage's state file after the rollover (the daemon keeps them there).
#
# Per rollover:
#   detect    last live/ link replaced -> "changed, then quiet" (the
#             configured quiet period is included and shown apart)
#   publish   idle -> publish ... publish -> propagate: the UPDATE
#   propagate publish -> propagate ... propagate -> hold: until every
#             authoritative address serves the record and a fresh
#             validating lookup returns it secure
#   hold      propagate -> hold ... hold -> deploy; of it, "TTL wait" is
#             hold-until minus the start of the hold stage (the time tlsad
#             sleeps because of the TTL), "after hold-until" is the final
#             DNS check and the wake-up
#   deploy, reload (`postfix reload` run to its end), probe (STARTTLS +
#   DANE check), retire (the delete UPDATE), confirm (until the old record
#   is gone everywhere)
#   total     idle -> publish ... confirm -> idle
#   overhead  total minus the TTL wait: everything that is not sleeping
#             for caches (propagation and confirm included: on a real
#             network those are the secondaries' speed, not tlsad's)
#   own work  overhead minus propagate and confirm
# RSS (VmRSS) of the daemon is read after every rollover: growth across
# rollovers would be a leak.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
RUNS=${1:-7}
# shellcheck source=../integration/e2e_lib.sh
. "$here/../integration/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
QUIET_MS=500
e2e_setup
e2e_conf_lineage "$L"
"$TLSAD" -n -c "$E2E_CONF" || tb_die "tlsad -n refuses the bench config"
grep -q "quiet-period: ${QUIET_MS}ms" "$E2E_CONF" ||
    tb_die "the e2e config no longer sets quiet-period: ${QUIET_MS}ms"

STAMPED=$TB_DIR/tlsad-stamped.log
cat >"$TB_DIR/stamp.py" <<'PY'
# Prefix each line of stdin with the wall-clock time it arrived.
import os, sys, time
buf = b""
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    now = time.time()
    buf += chunk
    *lines, buf = buf.split(b"\n")
    for l in lines:
        sys.stdout.buffer.write(b"%.6f " % now + l + b"\n")
    sys.stdout.flush()
if buf:
    sys.stdout.buffer.write(b"%.6f " % time.time() + buf + b"\n")
PY

K1=$(e2e_first_cert "$L")
pf_start
# The daemon, its stderr time-stamped (exec: the pid is tlsad's).
# shellcheck disable=SC2016
tb_spawn tlsad-bench bash -c 'exec "$1" -d -c "$2" 2> >(exec python3 -u "$3" >"$4")' \
    _ "$TLSAD" "$E2E_CONF" "$TB_DIR/stamp.py" "$STAMPED"
E2E_TLSAD_PID=$TB_LAST_PID
for _ in $(seq 1 100); do
	[ -S "$E2E_SOCK" ] && break
	sleep 0.1
done
[ -S "$E2E_SOCK" ] || tb_die "tlsad did not open its control socket"
if e2e_wait_settled "$L" "$K1" 40; then
	pass "first install: the first key deployed"
else
	tb_die "first install did not settle (stage $(e2e_field "$L" stage))"
fi

rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$E2E_TLSAD_PID/status"; }

# Wait until the stamped log has COUNT lines "NAME: confirm -> idle".
wait_idle_lines() {
	local want=$1 secs=$2 end
	end=$(($(date +%s) + secs))
	while :; do
		[ "$(grep -c ": $L: confirm -> idle" "$STAMPED" || true)" -ge "$want" ] && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# One rollover's log lines (stdin) -> one line of figures.
cat >"$TB_DIR/parse.py" <<'PY'
import re, sys
from datetime import datetime, timezone
name, t_link, statef, quiet_ms, rss = sys.argv[1:6]
t_link, quiet = float(t_link), int(quiet_ms) / 1000.0
tr, checks, changed = {}, {"propagate": 0, "confirm": 0, "hold": 0}, None
rx = re.compile(r"^([0-9.]+) tlsad: " + re.escape(name) + r": (\w+) -> (\w+): ")
for line in sys.stdin:
    m = rx.match(line)
    if m:
        tr.setdefault((m.group(2), m.group(3)), float(m.group(1)))
    elif ": " + name + ": changed, then quiet" in line and changed is None:
        changed = float(line.split()[0])
    else:
        m = re.match(r"^[0-9.]+ tlsad: " + re.escape(name) + r": (\w+): dns-check", line)
        if m and m.group(1) in checks:
            checks[m.group(1)] += 1
def iso(key):
    for l in open(statef):
        k, _, v = l.rstrip("\n").partition(" ")
        if k == key:
            return datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=timezone.utc).timestamp()
    raise SystemExit("no %s in the state file" % key)
path = ["idle", "publish", "propagate", "hold", "deploy", "reload", "probe",
        "retire", "confirm", "idle"]
t = []
for a, b in zip(path, path[1:]):
    if (a, b) not in tr:
        print("FAIL missing transition %s -> %s; seen: %s" % (a, b,
              " ".join("%s->%s" % k for k in tr)))
        sys.exit(0)
    t.append(tr[(a, b)])
t0, hold_until = iso("t0"), iso("hold-until")
stage = {p: t[i + 1] - t[i] for i, p in enumerate(path[1:-1])}
ttl_wait = max(0.0, hold_until - t[2])
total = t[-1] - t[0]
overhead = total - ttl_wait
own = overhead - stage["propagate"] - stage["confirm"]
out = {
    "detect": (changed - t_link) if changed else -1,
    "detect_over": (changed - t_link - quiet) if changed else -1,
    "start": (t[0] - changed) if changed else -1,
    "publish": stage["publish"], "propagate": stage["propagate"],
    "hold": stage["hold"], "computed_hold": hold_until - t0,
    "ttl_wait": ttl_wait, "after_hold": t[3] - hold_until,
    "deploy": stage["deploy"], "reload": stage["reload"],
    "probe": stage["probe"], "retire": stage["retire"],
    "confirm": stage["confirm"], "total": total, "overhead": overhead,
    "own": own, "checks_propagate": checks["propagate"] + 1,
    "checks_hold": checks["hold"],
    "checks_confirm": checks["confirm"] + 1, "rss_kib": int(rss),
}
print("OK " + " ".join("%s=%.4f" % (k, v) if isinstance(v, float) else
                       "%s=%d" % (k, v) for k, v in out.items()))
PY

RES=$TB_DIR/rollovers.txt
: >"$RES"
rss0=$(rss_kib)
K=$K1
for r in $(seq 1 "$RUNS"); do
	sleep 2
	from=$(($(wc -l <"$STAMPED") + 1))
	v=$(renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L")
	t_link=$(date +%s.%N)
	Knew=$(rn_spki "$E2E_LIVE/$L/cert.pem")
	if ! wait_idle_lines "$r" 60; then
		fail "rollover $r (version $v) did not finish in 60 s"
		tail -n +"$from" "$STAMPED" | sed 's/^/#   /' | tail -n 30
		break
	fi
	rss=$(rss_kib)
	tail -n +"$from" "$STAMPED" >"$TB_DIR/round.log"
	line=$(python3 "$TB_DIR/parse.py" "$L" "$t_link" "$TB_DIR/state/$L.state" \
	    "$QUIET_MS" "$rss" <"$TB_DIR/round.log")
	case $line in
	OK*)
		printf '%s\n' "${line#OK }" >>"$RES"
		printf '# rollover %s: %s\n' "$r" "$line"
		# An outlier (overhead over 1 s): show what the daemon said.
		if printf '%s\n' "$line" | tr ' ' '\n' |
		    awk -F= '$1 == "overhead" && $2 > 1 { f = 1 } END { exit !f }'; then
			printf '# rollover %s: overhead over 1 s; its log:\n' "$r"
			sed 's/^/#   /' "$TB_DIR/round.log"
			cp "$TB_DIR/round.log" "$TB_DIR/outlier-$r.log"
		fi
		;;
	*)
		fail "rollover $r: $line"
		tail -n +"$from" "$STAMPED" | sed 's/^/#   /' | tail -n 30
		continue
		;;
	esac
	# The end state, so that a broken rollover is not a fast one.
	if [ "$(e2e_rrset "$TB_PRIMARY" "$N")" = "$Knew" ] &&
	    [ "$(e2e_rrset "$TB_SECONDARY" "$N")" = "$Knew" ] &&
	    [ "$(pf_served_spki || echo none)" = "$Knew" ] && [ "$Knew" != "$K" ]; then
		pass "rollover $r: only the new record, Postfix serves the new key"
	else
		fail "rollover $r: end state wrong"
	fi
	K=$Knew
done

n=$(wc -l <"$RES")
[ "$n" -gt 0 ] || tb_die "no rollover measured"
printf '\n%d rollovers; VmRSS %s KiB after the first install, %s KiB after the last rollover\n\n' \
    "$n" "$rss0" "$(rss_kib)"
python3 - "$RES" <<'PY'
import statistics, sys
rows = [dict(kv.split("=") for kv in l.split()) for l in open(sys.argv[1])]
def col(k):
    return sorted(float(r[k]) for r in rows)
def ms(k):
    v = col(k)
    return "%.0f [%.0f-%.0f]" % (statistics.median(v) * 1000, v[0] * 1000, v[-1] * 1000)
print("| stage | median [min-max] (ms) |")
print("|---|---|")
for k, label in [
    ("detect", "detect: last link -> \"changed, then quiet\" (quiet period included)"),
    ("detect_over", "  of which beyond the quiet period"),
    ("start", "changed -> idle -> publish"),
    ("publish", "publish (UPDATE sent and answered)"),
    ("propagate", "propagation to validated (all addresses + secure lookup)"),
    ("hold", "hold stage"),
    ("computed_hold", "  computed hold (hold-until - t0)"),
    ("ttl_wait", "  TTL wait (hold-until - start of the hold stage)"),
    ("after_hold", "  after hold-until: final DNS check, wake-up"),
    ("deploy", "deploy (write the key + chain file)"),
    ("reload", "reload (postfix reload)"),
    ("probe", "probe (STARTTLS + DANE)"),
    ("retire", "retire (delete UPDATE)"),
    ("confirm", "confirm (old record gone everywhere)"),
    ("total", "**total rollover** (idle -> publish ... confirm -> idle)"),
    ("overhead", "**overhead** = total - TTL wait"),
    ("own", "**own work** = overhead - propagation - confirm"),
]:
    print("| %s | %s |" % (label, ms(k)))
cp, cc, ch = col("checks_propagate"), col("checks_confirm"), col("checks_hold")
print("\nDNS checks per rollover: propagate %d-%d, hold %d-%d, confirm %d-%d" %
      (cp[0], cp[-1], ch[0], ch[-1], cc[0], cc[-1]))
slow = [i + 1 for i, r in enumerate(rows) if float(r["overhead"]) > 1]
print("Rollovers with an overhead over 1 s: %s" % (", ".join(map(str, slow)) or "none"))
rss = [int(r["rss_kib"]) for r in rows]
print("VmRSS after each rollover (KiB): %s" % " ".join(map(str, rss)))
PY
e2e_stop_tlsad
tb_done
