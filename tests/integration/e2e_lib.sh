# shellcheck shell=bash disable=SC2034,SC2119,SC2120
#
# e2e_lib.sh -- what the end-to-end tests (t_e2e_*.sh) and tests/demo.sh
# share: the DNS testbed (lib.sh), a real Postfix reading tlsad's deploy
# file (postfix.sh), certbot-like renewals (renew.sh), the invariant monitor
# (monitor.sh), a tlsad.conf with short waits, the running daemon, and
# `tlsactl status --json` parsing.
#
# The tests: t_e2e_rollover (the main case), t_e2e_reuse (--reuse-key),
# t_e2e_two (two lineages at once), t_e2e_crash and t_e2e_crash_rollback
# (SIGKILL in each long stage), t_e2e_badreload, t_e2e_badprobe (rollback),
# t_e2e_garbage (a broken renewal), t_e2e_supersede (a renewal mid-rollover),
# t_e2e_migrate (taking over a running setup), t_e2e_hook (certbot hook:
# kick and one-shot rollover), t_e2e_monitor (the monitor catches breaches).
# Run one: TLSAD_BUILD=build TLSAD_SRC=. bash tests/integration/t_e2e_X.sh
# (as root; TB_KEEP=1 keeps the testbed dir), or all: ctest -R e2e.
#
#	. "$(dirname "$0")/e2e_lib.sh"
#	e2e_setup				# DNS testbed, Postfix config (not started)
#	e2e_conf_lineage mx.dane.example	# one lineage: clause (call once per lineage)
#	renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" mx.dane.example
#	...
#
# Variables:
#   TLSAD, TLSACTL		the programs under test ($TLSAD_BUILD)
#   E2E_LIVE, E2E_ARCHIVE	certbot's live/ and archive/ ($TB_DIR/le/...)
#   E2E_CONF			tlsad.conf
#   E2E_SOCK			the control socket
#   E2E_TLSAD_PID		the running daemon (e2e_start_tlsad)
#   E2E_POSTFIX			absolute path of postfix(1)
#
# Functions:
#   e2e_setup			start the DNS testbed, write Postfix's config,
#				write the server: and key: clauses of E2E_CONF
#				(E2E_QUIET: quiet-period, default 500ms;
#				E2E_SERVER_EXTRA: more server: lines)
#   e2e_conf_lineage NAME [PORT [DEPLOY [RELOAD [VERIFY]]]]
#				append a lineage: clause.  Its TLSA name is
#				_25._tcp.NAME. (so NAME must be in $TB_ZONE);
#				PORT ($PF_PORT) the STARTTLS port probed, DEPLOY
#				the deploy file ($PF_DEPLOY), RELOAD the reload
#				command (Postfix's reload of the test instance),
#				VERIFY the verify: line value (default
#				$PF_ADDR@PORT starttls NAME)
#   e2e_tlsa_name NAME		_25._tcp.NAME.
#   e2e_pf_listener PORT DEPLOY	add a STARTTLS listener on PORT to the Postfix
#				instance that reads DEPLOY instead (a second
#				lineage served by the same Postfix)
#   e2e_start_tlsad		start `tlsad -d -c E2E_CONF` (tb_spawn), wait
#				for its control socket
#   e2e_stop_tlsad		SIGTERM, wait
#   e2e_kill_tlsad		SIGKILL, wait (a crash)
#   e2e_status [LINEAGE]	`tlsactl status --json`; sets E2E_JSON, E2E_RC
#   e2e_field LINEAGE FIELD	from E2E_JSON: stage, status, retry_stage,
#				live_key, deployed_key (the file's), state_key,
#				target_key, staged_key, published (keys, sorted,
#				comma-separated), last_error (name), last_message,
#				problems (texts, "; "-separated), live_error
#				(name), next; or FIELD exit/source (whole report)
#   e2e_wait_stage LINEAGE STAGE SECS	poll status until LINEAGE is in
#				STAGE (0) or SECS pass (1)
#   e2e_wait_settled LINEAGE KEY SECS	until LINEAGE is idle with KEY
#				deployed (file and state) and published == KEY
#   e2e_stage_watch_start TAG	poll `tlsactl status --json` (every ~0.1 s) and
#				log every change to $TB_DIR/stages-TAG.log:
#				"t LINEAGE STAGE RC STATUS [PROBLEMS] [| LINEAGE ...]",
#				RC the exit code of tlsactl status, PROBLEMS
#				the JSON problems array when STATUS is not ok
#   e2e_stages_seen TAG LINEAGE	the stages seen, in order, repeats collapsed
#   e2e_exits_in_stage TAG LINEAGE STAGE	exit codes seen in STAGE
#   e2e_stage_watch_stop TAG
#   e2e_first_cert NAME		version 1 of lineage NAME, published with
#				`tlsactl publish`, then waits until the
#				resolver serves it (the hold publish prints);
#				prints its key
#   e2e_bootstrap NAME...	e2e_first_cert for each, start Postfix and
#				tlsad, wait until each is deployed (asserted);
#				sets K1_<n> (n = 1, 2, ...: the Nth NAME)
#   e2e_only_record DESC NAME KEY	assert that the primary and the secondary
#				serve only KEY's 3 1 1 record at NAME, and that
#				the resolver does within its cache's TTL
#   e2e_check_until RC SECS	run `tlsactl check` until it exits RC; sets
#				E2E_CHECK_RC, E2E_CHECK_LINE (0: seen, 1: not)
#   e2e_done			tb_done, after asserting that no tlsad or
#				tlsactl run printed a sanitizer report (ASan,
#				UBSan, LSan builds: -DTLSAD_SANITIZE=ON)
#   e2e_rrset ADDR NAME		3 1 1 data at ADDR, hex only, sorted, one a line
#   e2e_show ...		print a line for humans (demo), "# " prefixed
#
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/postfix.sh"
. "$(dirname "${BASH_SOURCE[0]}")/renew.sh"
. "$(dirname "${BASH_SOURCE[0]}")/monitor.sh"

TLSAD=$TLSAD_BUILD/tlsad
TLSACTL=$TLSAD_BUILD/tlsactl
[ -x "$TLSAD" ] || tb_die "no tlsad in $TLSAD_BUILD (build first)"
[ -x "$TLSACTL" ] || tb_die "no tlsactl in $TLSAD_BUILD (build first)"
command -v python3 >/dev/null 2>&1 ||
    tb_die "python3 not found (Debian: python3; tests/install-deps.sh installs it with hash-slinger)"
E2E_POSTFIX=$(command -v postfix)
E2E_LIVE=$TB_DIR/le/live
E2E_ARCHIVE=$TB_DIR/le/archive
E2E_CONF=$TB_DIR/tlsad.conf
E2E_SOCK=$TB_DIR/tlsad.sock
E2E_TLSAD_PID=""
E2E_JSON=""
E2E_RC=0
E2E_TLSAD_RUNS=0
export RN_CA_DIR=$TB_DIR/le/test-ca

e2e_tlsa_name() { printf '_25._tcp.%s.\n' "${1%.}"; }

e2e_setup() {
	tb_start_dns
	pf_setup
	mkdir -p "$E2E_LIVE" "$E2E_ARCHIVE" "$TB_DIR/state"
	chmod 0700 "$E2E_LIVE" "$E2E_ARCHIVE"
	{
		printf 'server:\n'
		printf '    live-dir: %s\n' "$E2E_LIVE"
		printf '    state-dir: %s\n' "$TB_DIR/state"
		printf '    deploy-dir: %s\n' "$TB_DIR/deploy"
		printf '    control-socket: %s\n' "$E2E_SOCK"
		printf '    trust-anchor-file: %s\n' "$TB_ANCHOR"
		printf '    resolver: %s@%s\n' "$TB_RESOLVER" "$TB_PORT"
		printf '    dns-port: %s\n' "$TB_PORT"
		printf '    dns-timeout: 2s\n'
		printf '    ttl-multiplier: 1\n'
		printf '    hold-margin: 1s\n'
		printf '    poll-min: 100ms\n'
		printf '    poll-max: 500ms\n'
		printf '    quiet-period: %s\n' "${E2E_QUIET:-500ms}"
		printf '    retry-min: 1s\n'
		printf '    retry-max: 2s\n'
		printf '    propagation-timeout: 30s\n'
		printf '    log-level: debug\n'
		[ -n "${E2E_SERVER_EXTRA:-}" ] && printf '%s\n' "$E2E_SERVER_EXTRA"
		printf 'key:\n'
		printf '    file: %s\n' "$TB_KEYFILE"
	} >"$E2E_CONF"
}

e2e_conf_lineage() {
	local name=$1 port=${2:-$PF_PORT} deploy=${3:-$PF_DEPLOY}
	local reload=${4:-$E2E_POSTFIX -c $PF_CONF reload}
	local verify=${5:-$PF_ADDR@$port starttls $name}
	{
		printf 'lineage:\n'
		printf '    name: %s\n' "$name"
		printf '    tlsa-name: %s\n' "$(e2e_tlsa_name "$name")"
		printf '    update-server: %s@%s\n' "$TB_PRIMARY" "$TB_PORT"
		printf '    deploy-file: %s\n' "$deploy"
		printf '    reload: %s\n' "$reload"
		printf '    verify: %s\n' "$verify"
	} >>"$E2E_CONF"
}

e2e_pf_listener() {
	local port=$1 deploy=$2
	printf '%s\tinet\tn\t-\tn\t-\t-\tsmtpd\n  -o smtpd_tls_chain_files=%s\n' \
	    "$port" "$deploy" >>"$PF_CONF/master.cf"
	mkdir -p "$(dirname "$deploy")"
	chmod 0700 "$(dirname "$deploy")"
}

e2e_start_tlsad() {
	local i
	E2E_TLSAD_RUNS=$((E2E_TLSAD_RUNS + 1))
	tb_spawn "tlsad-$E2E_TLSAD_RUNS" "$TLSAD" -d -c "$E2E_CONF"
	E2E_TLSAD_PID=$TB_LAST_PID
	for i in $(seq 1 100); do
		[ -S "$E2E_SOCK" ] && return 0
		tb_proc_alive "$E2E_TLSAD_PID" || break
		sleep 0.1
	done
	tail -n 20 "$TB_DIR/tlsad-$E2E_TLSAD_RUNS.out" >&2
	tb_die "tlsad did not open its control socket $E2E_SOCK"
}

e2e_stop_tlsad() { tb_kill "$E2E_TLSAD_PID"; E2E_TLSAD_PID=""; }

e2e_kill_tlsad() {
	local i
	[ -n "$E2E_TLSAD_PID" ] || return 0
	kill -KILL "$E2E_TLSAD_PID" 2>/dev/null || true
	wait "$E2E_TLSAD_PID" 2>/dev/null || true
	for i in $(seq 1 50); do
		tb_proc_alive "$E2E_TLSAD_PID" || break
		sleep 0.1
	done
	tb_forget_pid "$E2E_TLSAD_PID"
	E2E_TLSAD_PID=""
}

# The daemon's log (all its runs).
e2e_tlsad_log() { cat "$TB_DIR"/tlsad-*.out 2>/dev/null || true; }

e2e_status() {
	E2E_RC=0
	E2E_JSON=$("$TLSACTL" -c "$E2E_CONF" status --json "$@" 2>>"$TB_DIR/status.err") || E2E_RC=$?
}

E2E_PY='
import json, sys
try:
    d = json.loads(sys.argv[3])
except Exception:
    print("<no json>"); sys.exit(0)
name, field = sys.argv[1], sys.argv[2]
if field in ("exit", "source", "status") and name == "":
    print(d.get(field)); sys.exit(0)
ls = [x for x in d.get("lineages", []) if x.get("name") == name]
if not ls:
    print("<no lineage>"); sys.exit(0)
l = ls[0]
def key(o):
    return o["key"] if isinstance(o, dict) and o.get("key") else "-"
def err(o, f):
    return o[f] if isinstance(o, dict) and o.get(f) is not None else "-"
dep = l.get("deployed") or {}
v = {
    "stage": l.get("stage") or "-",
    "status": l.get("status") or "-",
    "retry_stage": l.get("retry_stage") or "-",
    "live_key": key((l.get("live") or {}).get("key")),
    "live_error": err((l.get("live") or {}).get("error"), "name"),
    "live_message": err((l.get("live") or {}).get("error"), "message"),
    "deployed_key": key(dep.get("file_key")),
    "state_key": key(dep.get("state_key")),
    "target_key": key(l.get("target")),
    "staged_key": key(l.get("staged")),
    "published": ",".join(sorted(p["key"] for p in l.get("published") or [])) or "-",
    "last_error": err(l.get("last_error"), "name"),
    "last_message": err(l.get("last_error"), "message"),
    "problems": "; ".join(p["text"] for p in l.get("problems") or []) or "-",
    "next": l.get("next_action") or "-",
}
print(v.get(field, "<no field %s>" % field))
'

e2e_field() { python3 -c "$E2E_PY" "$1" "$2" "$E2E_JSON"; }

e2e_wait_stage() {
	local name=$1 want=$2 secs=$3 end
	end=$(($(date +%s%N) / 1000000 + secs * 1000))
	while :; do
		e2e_status
		[ "$(e2e_field "$name" stage)" = "$want" ] && return 0
		[ "$(($(date +%s%N) / 1000000))" -lt "$end" ] || return 1
		sleep 0.1
	done
}

e2e_wait_settled() {
	local name=$1 key=$2 secs=$3 end
	end=$(($(date +%s) + secs))
	while :; do
		e2e_status
		if [ "$(e2e_field "$name" stage)" = idle ] &&
		    [ "$(e2e_field "$name" deployed_key)" = "$key" ] &&
		    [ "$(e2e_field "$name" state_key)" = "$key" ] &&
		    [ "$(e2e_field "$name" published)" = "$key" ]; then
			return 0
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

e2e_stage_loop() {
	local log=$1 line last="" out rc
	trap - EXIT INT TERM
	set +e
	while :; do
		rc=0
		out=$("$TLSACTL" -c "$E2E_CONF" status --json 2>/dev/null) || rc=$?
		# No python here: this loop must be light (0.1 s rounds).
		line=$(printf '%s\n' "$out" | awk -v rc="$rc" '
		/^      "name": / { n = $2; gsub(/[",]/, "", n) }
		/^      "status": / { s = $2; gsub(/[",]/, "", s) }
		/^      "problems": / { pr = $0; sub(/^ *"problems": /, "", pr); sub(/,$/, "", pr) }
		/^      "stage": / { g = $2; gsub(/[",]/, "", g); if (g == "null") g = "-"
			printf "%s%s %s %s %s", (k++ ? " | " : ""), n, g, rc, s
			if (s != "ok") printf " %s", pr }
		END { if (!k) printf "<no lineage> rc %s", rc; print "" }')
		if [ "$line" != "$last" ]; then
			printf '%s %s\n' "$(mon_now)" "$line" >>"$log"
			last=$line
		fi
		sleep 0.05
	done
}

e2e_stage_watch_start() {
	: >"$TB_DIR/stages-$1.log"
	tb_spawn "stages-$1" e2e_stage_loop "$TB_DIR/stages-$1.log"
	printf '%s\n' "$TB_LAST_PID" >"$TB_DIR/stages-$1.pid"
}

e2e_stage_watch_stop() {
	local f=$TB_DIR/stages-$1.pid
	[ -f "$f" ] || return 0
	tb_kill "$(cat "$f")"
	rm -f "$f"
}

# Stages seen by watcher TAG for LINEAGE, in order, repeats collapsed.
e2e_stages_seen() {
	awk -v n="$2" '{
		for (i = 2; i <= NF; i++) if ($i == n) { s = $(i + 1); break }
		if (s != "" && s != last) { printf "%s%s", (out++ ? " " : ""), s; last = s }
	} END { print "" }' "$TB_DIR/stages-$1.log"
}

# Exit codes seen by watcher TAG while LINEAGE was in STAGE (sorted, unique).
e2e_exits_in_stage() {
	awk -v n="$2" -v st="$3" '{
		for (i = 2; i <= NF; i++) if ($i == n && $(i + 1) == st) print $(i + 2)
	}' "$TB_DIR/stages-$1.log" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

e2e_first_cert() {
	local name=$1 rc=0 out
	renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$name" >/dev/null
	out=$("$TLSACTL" -c "$E2E_CONF" publish "$name" 2>&1) || rc=$?
	if [ "$rc" != 0 ]; then
		printf '%s\n' "$out" | sed 's/^/#   | /' >&2
		tb_die "tlsactl publish $name: exit $rc"
	fi
	# An admin waits for the hold publish printed; here: until the
	# validating resolver's cache (which may hold the negative answer
	# for its TTL) serves the record.  E2E_NO_PUBLISH_WAIT=1 skips the
	# wait: tlsad's first install then deploys while caches may still
	# deny any TLSA RRset (the monitor logs NODANE).
	[ "${E2E_NO_PUBLISH_WAIT:-0}" = 1 ] && { rn_spki "$E2E_LIVE/$name/cert.pem"; return 0; }
	tb_wait_tlsa "$TB_RESOLVER" "$(e2e_tlsa_name "$name")" \
	    "3 1 1 $(rn_spki "$E2E_LIVE/$name/cert.pem")" 15 ||
	    tb_die "the resolver does not serve $name's first record"
	rn_spki "$E2E_LIVE/$name/cert.pem"
}

e2e_bootstrap() {
	local name i=0 k
	for name in "$@"; do
		i=$((i + 1))
		k=$(e2e_first_cert "$name")
		eval "K1_$i=\$k"
	done
	pf_start
	e2e_start_tlsad
	i=0
	for name in "$@"; do
		i=$((i + 1))
		eval "k=\$K1_$i"
		if e2e_wait_settled "$name" "$k" 40; then
			pass "first install of $name: deployed and idle"
		else
			fail "first install of $name: not settled (stage $(e2e_field "$name" stage): $(e2e_field "$name" last_message))"
			tb_die "no first install: the rest of the test would prove nothing"
		fi
	done
}

e2e_only_record() {
	local desc=$1 name=$2 key=$3 a
	for a in "$TB_PRIMARY" "$TB_SECONDARY"; do
		assert_eq "$desc: $a serves only $(printf %.8s "$key")'s record" "$key" "$(e2e_rrset "$a" "$name")"
	done
	# The resolver may still hold the previous RRset for its TTL.
	if tb_wait_tlsa "$TB_RESOLVER" "$name" "3 1 1 $key" $((TB_TTL + 3)); then
		pass "$desc: the resolver serves only $(printf %.8s "$key")'s record"
	else
		fail "$desc: the resolver serves only $(printf %.8s "$key")'s record"
		printf '#   actual: %s\n' "$(tb_tlsa_at "$TB_RESOLVER" "$name" | tr '\n' ' ')"
	fi
}

e2e_check_until() {
	local want=$1 end
	end=$(($(date +%s) + $2))
	while :; do
		E2E_CHECK_RC=0
		E2E_CHECK_LINE=$("$TLSACTL" -c "$E2E_CONF" check 2>&1) || E2E_CHECK_RC=$?
		[ "$E2E_CHECK_RC" = "$want" ] && return 0
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

e2e_rrset() {
	tb_tlsa_at "$1" "$2" | awk '$1 == 3 && $2 == 1 && $3 == 1 { print $4 }' | sort
}

e2e_done() {
	local f hits=""
	for f in "$TB_DIR"/tlsad-*.out "$TB_DIR"/status.err; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			hits="$hits $(basename "$f")"
			grep -E -A12 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f" | head -n 30 | sed 's/^/#   /'
		fi
	done
	assert_eq "no sanitizer report from tlsad or tlsactl" "" "$hits"
	tb_done
}

e2e_show() { printf '# %s\n' "$*"; }
