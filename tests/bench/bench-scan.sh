#!/bin/bash
# bench-scan.sh -- tlsad's start-up with many lineages: the time from exec
# to READY=1, the time until every lineage has been looked at ("all up to
# date"), and the daemon's memory afterwards.  A benchmark, not a test: it
# asserts nothing about times and prints a Markdown table (the figures in
# docs/PERFORMANCE.md come from it).
#
# Usage (Debian 12, after tests/install-deps.sh and a build; root is not
# needed, no server is started, nothing leaves the machine):
#   TLSAD_BUILD=build bash tests/bench/bench-scan.sh [DIR]
# Environment: COUNT (lineages, default 1000), KEYS (size of the key pool,
# default 16), RUNS (start-ups measured, default 5), NOFILE (if set, the
# daemon runs under `ulimit -n NOFILE`, e.g. 1024 as systemd's default soft
# limit), IDLE_SECS (default 10: how long the started daemon is watched for
# wakeups after the scan).  DIR (default /tmp/bench-scan) keeps the
# generated lineages for later runs; remove it to regenerate.
#
# What is generated, once:
#   - a P-256 root and intermediate, and a pool of KEYS P-256 keys;
#   - COUNT certbot-like lineages mxNNNN.bench.example: archive/NAME/
#     {cert,chain,fullchain,privkey}1.pem (the leaf signed by the
#     intermediate, its own serial and name; the key taken from the pool in
#     turn) and live/NAME/*.pem relative symlinks into archive/, modes as
#     certbot sets them;
#   - the deploy file of each lineage (key + full chain, mode 0600), as
#     tlsad would have written it;
#   - a state file per lineage written in the format of
#     include/tlsad/state.h: stage idle, the live key deployed and the only
#     one published (what a finished rollover leaves);
#   - tlsad.conf with COUNT lineage: clauses (tlsa-name, deploy-file,
#     reload, verify), no DNS server needed: an idle lineage whose live key
#     is the deployed one makes tlsad ask the DNS nothing at start-up (the
#     DNS is checked at SIGHUP and at the hourly rescan, not at start).
#
# What is measured, RUNS times: a small Python driver binds a Unix datagram
# socket, starts tlsad with NOTIFY_SOCKET pointing at it, and timestamps
# every sd_notify message: READY=1 (sent once the config is read, every
# lineage's state loaded and locked and inotify set up, before taking
# stock), then STATUS=watching N lineages: all up to date (every lineage's
# live/ links, certificate and key read and checked, the state machine run
# once each).  At that moment it reads VmRSS, VmHWM, the thread count and
# the CPU time of the process from /proc, then counts the daemon's context
# switches (all threads) over IDLE_SECS, then checks with `tlsactl status
# --json` that every lineage is idle and fine (timing that too), then stops
# the daemon with SIGTERM and times the stop.  Whatever fails, the driver
# leaves no daemon behind.
#
# VERIFY=1 (root: it starts the DNS testbed of tests/integration/lib.sh):
# the lineages are mxNNNN.dane.example in the testbed's signed zone, their
# records are published first (nsupdate, 100 per UPDATE), the config points
# at the testbed (resolver, trust anchor, TSIG key, update-server), and
# after the idle window the driver also sends SIGHUP, which makes the
# daemon check every idle lineage against the DNS (as the hourly rescan
# does), and times it until "all up to date" again; 0.3 s after the SIGHUP
# it sends `tlsactl kick` for the first lineage (what the certbot hook
# sends) and times the answer (tlsactl gives up after 10 s).  The queries
# that the two named instances log are counted during start-up (expected:
# none) and during that check.  COUNT defaults to 100 in this mode; DIR to a
# directory inside the testbed's.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${TLSAD_BUILD:=$here/../../build}"
COUNT_SET=${COUNT:-}
COUNT=${COUNT:-1000}
KEYS=${KEYS:-16}
RUNS=${RUNS:-5}
IDLE_SECS=${IDLE_SECS:-10}
VERIFY=${VERIFY:-}
SUFFIX=bench.example
if [ -n "$VERIFY" ]; then
	COUNT=${COUNT_SET:-100}
	# shellcheck source=../integration/lib.sh
	. "$here/../integration/lib.sh"
	tb_start_dns
	SUFFIX=${TB_ZONE%.}
	D=${1:-$TB_DIR/scan}
else
	D=${1:-/tmp/bench-scan}
fi
TLSAD=$TLSAD_BUILD/tlsad

die() { printf 'bench-scan: %s\n' "$*" >&2; exit 1; }
[ -x "$TLSAD" ] || die "no tlsad in $TLSAD_BUILD (build first)"
command -v openssl >/dev/null || die "openssl not found"
command -v python3 >/dev/null || die "python3 not found"

name_of() { printf 'mx%04d.%s' "$1" "$SUFFIX"; }

generate() {
	local i k n t0 ca=$D/ca
	t0=$(date +%s)
	rm -rf "$D"
	mkdir -p "$ca" "$D/le/live" "$D/le/archive" "$D/state" "$D/deploy" "$D/keys"
	chmod 0700 "$D/le/live" "$D/le/archive" "$D/deploy"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$ca/root.key" -out "$ca/root.pem" -days 90 \
	    -subj "/O=tlsad bench/CN=tlsad bench root" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$ca/int.key" -out "$ca/int.csr" \
	    -subj "/O=tlsad bench/CN=tlsad bench intermediate" 2>/dev/null
	printf '[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n' >"$ca/ca.cnf"
	openssl x509 -req -in "$ca/int.csr" -CA "$ca/root.pem" -CAkey "$ca/root.key" \
	    -CAcreateserial -days 90 -extfile "$ca/ca.cnf" -extensions ca \
	    -out "$ca/int.pem" 2>/dev/null
	now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
	# shellcheck disable=SC2016
	printf '[leaf]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\nsubjectAltName = DNS:${ENV::BENCH_SAN}\n' >"$ca/leaf.cnf"
	for k in $(seq 0 $((KEYS - 1))); do
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		    -out "$D/keys/$k.pem" 2>/dev/null
		openssl req -new -key "$D/keys/$k.pem" -subj "/CN=pool$k" \
		    -out "$D/keys/$k.csr" 2>/dev/null
		openssl pkey -in "$D/keys/$k.pem" -pubout -outform DER 2>/dev/null |
		    openssl dgst -sha256 -r | cut -d' ' -f1 >"$D/keys/$k.spki"
	done
	# One openssl process per certificate, two at a time.
	# shellcheck disable=SC2016
	seq 1 "$COUNT" | xargs -P 2 -n 50 bash -c '
		D=$1; KEYS=$2; SUFFIX=$3; shift 3
		for i; do
			n=$(printf "mx%04d.%s" "$i" "$SUFFIX")
			k=$((i % KEYS))
			a=$D/le/archive/$n
			mkdir -p "$a"
			BENCH_SAN=$n openssl x509 -req -in "$D/keys/$k.csr" \
			    -subj "/CN=$n" -CA "$D/ca/int.pem" -CAkey "$D/ca/int.key" \
			    -set_serial "$((100000 + i))" -days 60 \
			    -extfile "$D/ca/leaf.cnf" -extensions leaf \
			    -out "$a/cert1.pem" 2>/dev/null || exit 255
		done' _ "$D" "$KEYS" "$SUFFIX" || die "openssl failed to make a certificate"
	{
		printf 'server:\n'
		printf '    live-dir: %s\n' "$D/le/live"
		printf '    state-dir: %s\n' "$D/state"
		printf '    deploy-dir: %s\n' "$D/deploy"
		printf '    control-socket: %s\n' "$D/tlsad.sock"
		printf '    log-level: info\n'
		if [ -n "$VERIFY" ]; then
			printf '    trust-anchor-file: %s\n' "$TB_ANCHOR"
			printf '    resolver: %s@%s\n' "$TB_RESOLVER" "$TB_PORT"
			printf '    dns-port: %s\n' "$TB_PORT"
			printf '    dns-timeout: 2s\n'
			printf '    poll-min: 100ms\n'
			printf '    poll-max: 500ms\n'
			printf 'key:\n    file: %s\n' "$TB_KEYFILE"
		fi
	} >"$D/tlsad.conf"
	for i in $(seq 1 "$COUNT"); do
		n=$(name_of "$i")
		k=$((i % KEYS))
		a=$D/le/archive/$n
		(umask 077 && cp "$D/keys/$k.pem" "$a/privkey1.pem")
		cp "$ca/int.pem" "$a/chain1.pem"
		cat "$a/cert1.pem" "$a/chain1.pem" >"$a/fullchain1.pem"
		chmod 0644 "$a/cert1.pem" "$a/chain1.pem" "$a/fullchain1.pem"
		mkdir -p "$D/le/live/$n"
		for t in cert privkey chain fullchain; do
			ln -s "../../archive/$n/${t}1.pem" "$D/le/live/$n/$t.pem"
		done
		(umask 077 && cat "$a/privkey1.pem" "$a/fullchain1.pem" >"$D/deploy/$n.pem")
		spki=$(cat "$D/keys/$k.spki")
		cat >"$D/state/$n.state" <<EOF
tlsad-state 1
lineage $n
stage idle
retry-stage idle
live $spki 1
deployed $spki 1
target -
staged -
published $spki
stage-since $now
t0 -
hold-until -
hold-ttl 0
validated-at -
next-attempt -
deadline -
polls 0
substep 0
adopt 0
failures 0
last-error 0
last-error-at -
last-message -
last-success $now
EOF
		{
			printf 'lineage:\n'
			printf '    name: %s\n' "$n"
			printf '    tlsa-name: _25._tcp.%s.\n' "$n"
			printf '    deploy-file: %s\n' "$D/deploy/$n.pem"
			printf '    reload: /bin/true\n'
			printf '    verify: 127.0.0.1@10025 starttls\n'
			[ -z "$VERIFY" ] ||
			    printf '    update-server: %s@%s\n' "$TB_PRIMARY" "$TB_PORT"
		} >>"$D/tlsad.conf"
		[ -z "$VERIFY" ] ||
		    printf 'update add _25._tcp.%s. %s TLSA 3 1 1 %s\n' "$n" \
			"${TB_TTL:-3}" "$spki" >>"$D/records"
	done
	printf '%s\n' "$COUNT" >"$D/count"
	printf '# generated %s lineages (%s keys) in %s s\n' "$COUNT" "$KEYS" \
	    "$(($(date +%s) - t0))" >&2
}

if [ ! -f "$D/count" ] || [ "$(cat "$D/count")" != "$COUNT" ]; then
	generate
fi
if [ -n "$VERIFY" ]; then
	# Publish every lineage's record, 100 per UPDATE.
	split -l 100 "$D/records" "$D/records."
	for f in "$D"/records.*; do
		tb_nsupdate "$(cat "$f")" || die "nsupdate of $f failed"
	done
	last=$(name_of "$COUNT")
	tb_wait_tlsa "$TB_SECONDARY" "_25._tcp.$last." \
	    "$(awk -v n="_25._tcp.$last." '$3 == n { print $6, $7, $8, $9 }' "$D/records")" 20 ||
	    die "the secondary does not serve the last record"
	export BENCH_QUERY_LOGS="$TB_QUERY_LOG:$TB_SECONDARY_QUERY_LOG"
	BENCH_KICK=$(name_of 1)
	export BENCH_KICK
fi
"$TLSAD" -n -c "$D/tlsad.conf" || die "tlsad -n refuses $D/tlsad.conf"

cat >"$D/drive.py" <<'PY'
# Start tlsad under a fake NOTIFY_SOCKET and time its sd_notify messages.
import json, os, signal, socket, subprocess, sys, time

tlsad, conf, count, idle_secs, nofile, logf = sys.argv[1:7]
count, idle_secs = int(count), float(idle_secs)
d = os.path.dirname(conf)
path = os.path.join(d, "notify.sock")
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
env = dict(os.environ, NOTIFY_SOCKET=path)
env.pop("WATCHDOG_USEC", None)
def limit():
    if nofile:
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (int(nofile), int(nofile)))
def queries():
    n = 0
    for f in filter(None, os.environ.get("BENCH_QUERY_LOGS", "").split(":")):
        try:
            with open(f, errors="replace") as fh:
                n += sum(1 for l in fh if "query:" in l)
        except FileNotFoundError:
            pass
    return n
q0 = queries()
log = open(logf, "w")
t0 = time.monotonic()
p = subprocess.Popen([tlsad, "-c", conf], env=env, stderr=log,
                     stdout=log, preexec_fn=limit)
def main():
    global status
    ready = done = None
    s.settimeout(1.0)
    want = "STATUS=watching %d lineage%s: " % (count, "" if count == 1 else "s")
    while done is None:
        if time.monotonic() - t0 > 600 or p.poll() is not None:
            print("FAIL no 'all up to date' (exit %s)" % p.poll())
            sys.exit(1)
        try:
            m = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            continue
        t = time.monotonic() - t0
        if ready is None and "READY=1" in m.split("\n"):
            ready = t
        for line in m.split("\n"):
            if line.startswith(want):
                done = t
                status = line
    def proc():
        st = {}
        with open("/proc/%d/status" % p.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                st[k] = v.strip()
        with open("/proc/%d/stat" % p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tck = os.sysconf("SC_CLK_TCK")
        st["cpu"] = (int(fields[11]) + int(fields[12])) / tck
        return st
    def ctxt():
        n = 0
        for t in os.listdir("/proc/%d/task" % p.pid):
            with open("/proc/%d/task/%s/status" % (p.pid, t)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        return n
    st = proc()
    fds = len(os.listdir("/proc/%d/fd" % p.pid))
    c0 = ctxt()
    time.sleep(idle_secs)
    c1 = ctxt()
    # Every lineage idle and fine, as the daemon reports it (and what that costs).
    tctl = os.path.join(os.path.dirname(tlsad), "tlsactl")
    tq = time.monotonic()
    q = subprocess.run([tctl, "-c", conf, "status", "--json"],
                       capture_output=True, text=True)
    tq = time.monotonic() - tq
    try:
        ls = json.loads(q.stdout).get("lineages", [])
    except ValueError:
        ls = []
    idle = sum(1 for x in ls if x.get("stage") == "idle" and x.get("status") == "ok")
    if idle != count:
        print("FAIL %d of %d lineages idle and ok (status exit %d): %s" %
              (idle, count, q.returncode, (q.stderr or q.stdout)[:500]))
        p.terminate()
        p.wait()
        sys.exit(1)
    hup = ""
    if os.environ.get("BENCH_QUERY_LOGS"):
        # named writes its query log asynchronously: let it settle.
        time.sleep(1)
        q1 = queries()
        th = time.monotonic()
        c_h0 = proc()["cpu"]
        p.send_signal(signal.SIGHUP)
        # What the certbot hook would see meanwhile: a kick, 0.3 s in.
        time.sleep(0.3)
        tk = time.monotonic()
        kp = subprocess.Popen([tctl, "-c", conf, "kick", os.environ["BENCH_KICK"]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kick = None
        s.settimeout(0.05)
        reloaded = hdone = None
        while hdone is None or kick is None:
            if kick is None and kp.poll() is not None:
                kick = time.monotonic() - tk
            if hdone is not None:
                time.sleep(0.05)
                continue
            if time.monotonic() - th > 600 or p.poll() is not None:
                print("FAIL no 'all up to date' after SIGHUP")
                sys.exit(1)
            try:
                m = s.recv(4096).decode(errors="replace")
            except socket.timeout:
                continue
            lines = m.split("\n")
            if "READY=1" in lines:
                reloaded = time.monotonic() - th
            if reloaded is not None:
                for line in lines:
                    if line.startswith(want) and line.endswith("all up to date"):
                        hdone = time.monotonic() - th
        c_h1 = proc()["cpu"]
        time.sleep(1)
        q2 = queries()
        q = subprocess.run([tctl, "-c", conf, "status", "--json"],
                           capture_output=True, text=True)
        try:
            ls = json.loads(q.stdout).get("lineages", [])
        except ValueError:
            ls = []
        ok = sum(1 for x in ls if x.get("stage") == "idle" and x.get("status") == "ok")
        if ok != count:
            print("FAIL after SIGHUP %d of %d lineages idle and ok" % (ok, count))
            sys.exit(1)
        hup = " q_start=%d hup_s=%.3f hup_cpu=%.2f q_hup=%d kick_s=%.3f kick_rc=%d" % (
            q1 - q0, hdone, c_h1 - c_h0, q2 - q1, kick, kp.returncode)
    ts = time.monotonic()
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=60)
    stop = time.monotonic() - ts
    print("OK ready=%.3f done=%.3f rss_kib=%s hwm_kib=%s threads=%s cpu=%.2f "
          "fds=%d wakeups=%d status_s=%.3f idle_ok=%d stop=%.3f rc=%d status=%s" % (
          ready if ready is not None else -1, done,
          st["VmRSS"].split()[0], st["VmHWM"].split()[0], st["Threads"],
          st["cpu"], fds, c1 - c0, tq, idle, stop, rc, status.replace(" ", "_")) + hup)

status = ""
try:
    main()
finally:
    # Whatever happened, leave no daemon behind.
    if p.poll() is None:
        p.kill()
        p.wait()
PY

lines=""
for r in $(seq 1 "$RUNS"); do
	# Every run starts from the same files: the state files say idle.
	out=$(python3 "$D/drive.py" "$TLSAD" "$D/tlsad.conf" "$COUNT" \
	    "$IDLE_SECS" "${NOFILE:-}" "$D/tlsad-$r.log") || {
		printf '%s\n' "$out" >&2
		tail -n 20 "$D/tlsad-$r.log" >&2
		die "run $r failed"
	}
	printf '# run %s: %s\n' "$r" "$out" >&2
	lines="$lines$out
"
done
errs=$(grep -c -v -e ': new lineage$' -e ': started: ' -e 'stopping on signal' -e ': stopped$' \
    "$D"/tlsad-*.log || true)

printf '%s' "$lines" | awk -v n="$COUNT" -v runs="$RUNS" -v idle="$IDLE_SECS" \
    -v errs="$(printf '%s\n' "$errs" | awk -F: '{ s += $NF } END { print s + 0 }')" '
function med(a, k,   i, j, t) {
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
		if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function fmt(a, k, scale, p,   m) {
	m = med(a, k)
	return sprintf("%." p "f [%." p "f-%." p "f]", m * scale, a[1] * scale, a[k] * scale)
}
{
	k++
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1], k] = kv[2] }
	r[k] = v["ready", k]; dn[k] = v["done", k]; rss[k] = v["rss_kib", k]
	hwm[k] = v["hwm_kib", k]; cpu[k] = v["cpu", k]; wk[k] = v["wakeups", k]
	qs[k] = v["q_start", k]; hs[k] = v["hup_s", k]; hc[k] = v["hup_cpu", k]; qh[k] = v["q_hup", k]
	ks[k] = v["kick_s", k]; kr = kr " " v["kick_rc", k]
	st[k] = v["stop", k]; sq[k] = v["status_s", k]; thr = v["threads", k]; fds = v["fds", k]
}
END {
	printf "| lineages | runs | exec to READY=1 (s) | exec to all up to date (s) | CPU at up to date (s) | VmRSS (MiB) | VmHWM (MiB) | threads | open fds | context switches in %s s idle | `tlsactl status --json` (s) | SIGTERM to exit (s) |\n", idle
	printf "|---:|---:|---|---|---|---|---|---:|---:|---|---|---|\n"
	printf "| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, runs,
	    fmt(r, k, 1, 3), fmt(dn, k, 1, 3), fmt(cpu, k, 1, 2),
	    fmt(rss, k, 1 / 1024, 1), fmt(hwm, k, 1 / 1024, 1), thr, fds,
	    fmt(wk, k, 1, 0), fmt(sq, k, 1, 3), fmt(st, k, 1, 3)
	if (hs[1] != "") {
		printf "\n| lineages | queries logged by named during start-up | SIGHUP to all up to date again (s) | CPU during it (s) | queries logged by named during it | per lineage | `tlsactl kick` sent 0.3 s after SIGHUP: answered in (s) | its exit codes |\n"
		printf "|---:|---|---|---|---|---:|---|---|\n"
		printf "| %d | %s | %s | %s | %s | %.1f | %s | %s |\n", n, fmt(qs, k, 1, 0),
		    fmt(hs, k, 1, 3), fmt(hc, k, 1, 2), fmt(qh, k, 1, 0), med(qh, k) / n,
		    fmt(ks, k, 1, 3), kr
	}
	printf "\nlog lines other than start/stop: %d\n", errs
}'
if [ -n "$VERIFY" ]; then
	pass "$RUNS start-ups and SIGHUP checks of $COUNT lineages: all idle and fine"
	tb_done
fi
