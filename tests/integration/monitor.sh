# shellcheck shell=bash
#
# monitor.sh -- watch the safety invariant from the outside, the whole time a
# test runs (source after lib.sh; needs dig, openssl, sha256sum).
#
# The invariant (docs/DESIGN.md): Postfix never serves a key
# whose TLSA record is not published and validated, and the TLSA RRset never
# lacks a record for the key Postfix serves.
#
# A monitor is a background loop (started with lib.sh's tb_spawn, so it is
# killed at exit) that, every MON_INTERVAL seconds (default 0.2):
#   1. asks the validating resolver (dig +dnssec, RD) and every authoritative
#      address (RD=0) for the TLSA RRset of the name, in parallel;
#   2. connects to the MTA with STARTTLS (openssl s_client -starttls smtp)
#      and hashes the served leaf's SubjectPublicKeyInfo (SHA-256);
#   3. asks the DNS again, as in 1.
# The served key was served at some moment between the two DNS snapshots.
# For each source (the resolver, each authoritative address) the key's
# "3 1 1" record must be in the RRset of at least one of the two snapshots;
# for the resolver only an answer with the AD bit counts (an answer without
# it is an empty validated RRset).  When both snapshots of a source answered
# and neither holds the record, the monitor writes a VIOLATION line.  This
# bracket makes the check free of false alarms from the race between the
# probe and the DNS (a key deployed or retired just between two queries),
# while any real breach that lasts longer than one round is caught.
#
# Log lines ($TB_DIR/monitor-TAG.log), each starting with the word and the
# wall time with ms:
#   START t ADDR@PORT NAME		the monitor began
#   SERVED t HEX			the served key changed (first one too)
#   OBS t HEX				a complete observation: served key known,
#					every source answered twice, no breach
#   VIOLATION t HEX SOURCE pre=[..] post=[..]	the invariant broke
#   UNSURE t HEX SOURCE ...		a source did not answer: nothing proved
#   NODANE t HEX resolver ...		a key is served while the validated answer
#					is a secure denial (no TLSA RRset at all):
#					DANE clients do not authenticate, mail
#					flows; not the steady state of a rollover
#					(mon_check fails on it unless
#					MON_ALLOW_NODANE=1)
#   NOKEY t reason			no key served (no TLS, connection refused)
#   DNSFAIL t SOURCE status		a source answered SERVFAIL/REFUSED/...
#
# Functions:
#   mon_start TAG ADDR PORT SERVERNAME TLSANAME
#					start monitor TAG (sets nothing in the
#					caller but $TB_DIR/monitor-TAG.{log,pid})
#   mon_stop TAG			stop it (SIGTERM, wait)
#   mon_log TAG				path of its log
#   mon_count TAG [WORD]		number of lines of WORD (default OBS)
#   mon_served_keys TAG			the served keys, in order of first sight
#   mon_obs_of TAG HEX			observations that saw HEX served
#   mon_switch_gap TAG A B		seconds between the last observation of
#					key A and the first of key B
#   mon_check TAG MIN_OBS		assert (lib.sh pass/fail): no VIOLATION,
#					at least MIN_OBS observations
# Inputs: MON_INTERVAL (0.2), MON_RESOLVER ($TB_RESOLVER), MON_AUTHS
# ("$TB_PRIMARY $TB_SECONDARY"), MON_PORT ($TB_PORT).
#

mon_log() { printf '%s/monitor-%s.log\n' "$TB_DIR" "$1"; }

mon_now() {
	# EPOCHREALTIME (bash 5) has microseconds: keep ms.
	local t=${EPOCHREALTIME:-}
	if [ -n "$t" ]; then
		t=${t/,/.}
		printf '%s\n' "${t%???}"
	else
		date +%s.%3N
	fi
}

# One DNS snapshot: DIR/resolver.dig and DIR/ADDR.dig, asked in parallel.
mon_snapshot() {
	local dir=$1 name=$2 a pids="" p
	dig @"$MON_RESOLVER" -p "$MON_PORT" +dnssec +time=1 +tries=1 \
	    "$name" TLSA >"$dir/resolver.dig" 2>/dev/null &
	pids="$pids $!"
	for a in $MON_AUTHS; do
		dig @"$a" -p "$MON_PORT" +norec +dnssec +time=1 +tries=1 \
		    "$name" TLSA >"$dir/$a.dig" 2>/dev/null &
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
}

mon_probe() {
	local pub out
	pub=$(timeout 5 openssl s_client -connect "$1:$2" -starttls smtp \
	    -servername "$3" </dev/null 2>/dev/null |
	    openssl x509 -pubkey -noout 2>/dev/null) || true
	[ -n "$pub" ] || return 1
	out=$(printf '%s\n' "$pub" | openssl pkey -pubin -outform DER 2>/dev/null |
	    sha256sum)
	printf '%s\n' "${out%% *}"
}

# Judge one round: the served KEY (or "") against the pre/ and post/ dig
# files of every source; append the verdict lines to the log.  One awk for
# the whole round keeps the loop light on a loaded machine.
mon_judge() {
	local dir=$1 key=$2 t=$3 log=$4 files="" src
	for src in resolver $MON_AUTHS; do
		files="$files $dir/pre/$src.dig $dir/post/$src.dig"
	done
	# shellcheck disable=SC2086
	awk -v key="$key" -v t="$t" -v srcs="resolver $MON_AUTHS" '
	function src_of(f,   s) { s = f; sub(/.*\//, "", s); sub(/\.dig$/, "", s); return s }
	function phase_of(f,   p) { p = f; sub(/\/[^\/]*$/, "", p); sub(/.*\//, "", p); return p }
	FNR == 1 { cur = phase_of(FILENAME) SUBSEP src_of(FILENAME); st[cur] = ""; ad[cur] = 0; recs[cur] = ""; notlsa[cur] = 1 }
	!/^;/ && NF >= 5 && $4 == "TLSA" { notlsa[cur] = 0 }
	/->>HEADER<<-/ { s = $0; sub(/.*status: /, "", s); sub(/,.*/, "", s); st[cur] = s }
	/^;; flags:/ { f = $0; sub(/^;; flags:/, "", f); sub(/;.*/, "", f); ad[cur] = (f ~ /(^| )ad( |$)/) }
	!/^;/ && NF >= 8 && $4 == "TLSA" && $5 == 3 && $6 == 1 && $7 == 1 {
		d = ""; for (i = 8; i <= NF; i++) d = d $i
		recs[cur] = recs[cur] (recs[cur] == "" ? "" : ",") tolower(d)
	}
	function has(ph, s,   c, n, r, i) {
		c = ph SUBSEP s
		if (st[c] != "NOERROR" && st[c] != "NXDOMAIN") return "unknown"
		if (s == "resolver" && !ad[c]) return "no"
		if (s == "resolver" && recs[c] == "" && notlsa[c]) return "nodane"
		n = split(recs[c], r, ",")
		for (i = 1; i <= n; i++) if (r[i] == key) return "yes"
		return "no"
	}
	function show(ph, s,   c) {
		c = ph SUBSEP s
		return (st[c] == "" ? "timeout" : st[c]) (ad[c] ? " ad" : "") " " (recs[c] == "" ? "-" : recs[c])
	}
	END {
		n = split(srcs, S, " ")
		for (i = 1; i <= n; i++) {
			c = "post" SUBSEP S[i]
			if (st[c] != "NOERROR" && st[c] != "NXDOMAIN")
				printf "DNSFAIL %s %s %s\n", t, S[i], (st[c] == "" ? "timeout" : st[c])
		}
		if (key == "") { printf "NOKEY %s no certificate served\n", t; exit }
		ok = 1
		for (i = 1; i <= n; i++) {
			a = has("pre", S[i]); b = has("post", S[i])
			if (a == "yes" || b == "yes") continue
			ok = 0
			if ((a == "nodane" || b == "nodane") && a != "unknown" && b != "unknown")
				printf "NODANE %s %s %s pre=[%s] post=[%s]\n", t, key, S[i], show("pre", S[i]), show("post", S[i])
			else if (a == "no" && b == "no")
				printf "VIOLATION %s %s %s pre=[%s] post=[%s]\n", t, key, S[i], show("pre", S[i]), show("post", S[i])
			else
				printf "UNSURE %s %s %s pre=%s post=%s\n", t, key, S[i], a, b
		}
		if (ok) printf "OBS %s %s\n", t, key
	}' $files >>"$log"
}

mon_loop() {
	local tag=$1 addr=$2 port=$3 sni=$4 name=$5 dir log key last="" t
	# A subshell of the test: no teardown of its own, no errexit.
	trap - EXIT INT TERM
	set +e
	dir=$TB_DIR/monitor-$tag.d
	log=$(mon_log "$tag")
	mkdir -p "$dir/pre" "$dir/post"
	printf 'START %s %s@%s %s\n' "$(mon_now)" "$addr" "$port" "$name" >>"$log"
	while :; do
		mon_snapshot "$dir/pre" "$name"
		key=$(mon_probe "$addr" "$port" "$sni") || key=""
		mon_snapshot "$dir/post" "$name"
		t=$(mon_now)
		if [ -n "$key" ] && [ "$key" != "$last" ]; then
			printf 'SERVED %s %s\n' "$t" "$key" >>"$log"
		fi
		last=$key
		mon_judge "$dir" "$key" "$t" "$log"
		sleep "$MON_INTERVAL"
	done
}

mon_start() {
	local tag=$1
	: "${MON_INTERVAL:=0.2}"
	: "${MON_RESOLVER:=$TB_RESOLVER}"
	: "${MON_AUTHS:=$TB_PRIMARY $TB_SECONDARY}"
	: "${MON_PORT:=$TB_PORT}"
	: >"$(mon_log "$tag")"
	tb_spawn "monitor-$tag" mon_loop "$@"
	printf '%s\n' "$TB_LAST_PID" >"$TB_DIR/monitor-$tag.pid"
}

mon_stop() {
	local f=$TB_DIR/monitor-$1.pid
	[ -f "$f" ] || return 0
	tb_kill "$(cat "$f")"
	rm -f "$f"
}

mon_count() {
	local n
	n=$(grep -c "^${2:-OBS} " "$(mon_log "$1")" 2>/dev/null) || true
	printf '%s\n' "${n:-0}"
}

mon_served_keys() { awk '$1 == "SERVED" && !seen[$3]++ { print $3 }' "$(mon_log "$1")"; }

mon_obs_of() {
	local n
	n=$(grep -c "^OBS [0-9.]* $2\$" "$(mon_log "$1")" 2>/dev/null) || true
	printf '%s\n' "${n:-0}"
}

# The longest time (s, ms precision) between an observation of key A and
# the next observation of key B: how closely the switch was watched.
mon_switch_gap() {
	awk -v a="$2" -v b="$3" '$1 == "OBS" && $3 == a { ta = $2 }
	$1 == "OBS" && $3 == b && ta != "" { printf "%.3f\n", $2 - ta; found = 1; exit }
	END { if (!found) print "inf" }' "$(mon_log "$1")"
}

mon_check() {
	local tag=$1 min=$2 log nv no nd
	log=$(mon_log "$tag")
	nv=$(mon_count "$tag" VIOLATION)
	no=$(mon_count "$tag" OBS)
	printf '# monitor %s: %s observations, %s violations, %s unsure, %s without a key, %s DNS failures\n' \
	    "$tag" "$no" "$nv" "$(mon_count "$tag" UNSURE)" "$(mon_count "$tag" NOKEY)" \
	    "$(mon_count "$tag" DNSFAIL)"
	if [ "$nv" = 0 ]; then
		pass "monitor $tag: the invariant held in every observation"
	else
		fail "monitor $tag: $nv VIOLATION lines"
		grep '^VIOLATION ' "$log" | head -n 5 | sed 's/^/#   /'
	fi
	nd=$(mon_count "$tag" NODANE)
	if [ "$nd" = 0 ] || [ "${MON_ALLOW_NODANE:-0}" = 1 ]; then
		pass "monitor $tag: no key served while the validated answer denied any TLSA RRset ($nd)"
	else
		fail "monitor $tag: $nd NODANE lines (a key served while resolvers still deny the RRset)"
		grep '^NODANE ' "$log" | head -n 3 | sed 's/^/#   /'
	fi
	if [ "$no" -ge "$min" ]; then
		pass "monitor $tag: enough observations ($no >= $min)"
	else
		fail "monitor $tag: too few observations to prove anything ($no < $min)"
	fi
}
