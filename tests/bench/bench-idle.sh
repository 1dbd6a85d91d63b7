#!/bin/bash
# bench-idle.sh -- what an idle tlsad costs: wakeups and memory once its
# lineage is up to date.  A benchmark, not a test: it prints a Markdown
# table (the figures in docs/PERFORMANCE.md come from it) and asserts only
# that the setup worked (the lineage was deployed and is idle).
#
# Usage (root on Debian 12, after tests/install-deps.sh and a build: the
# testbed adds loopback aliases and runs Postfix; strace must be installed):
#   TLSAD_BUILD=build TLSAD_SRC=. bash tests/bench/bench-idle.sh [SECONDS]
# SECONDS (default 60) is the length of each measurement window.
#
# The testbed of the end-to-end tests (BIND 9 primary and secondary, a
# validating Unbound, a real Postfix) and one lineage: its first
# certificate is published with `tlsactl publish`, then `tlsad -d` starts
# and deploys it (first install: DNS checks, deploy, reload, probe).  Two
# states of the daemon are measured:
#   after first install   the daemon that did that work (OpenSSL, ldns and
#                         libunbound have been used)
#   restarted             SIGTERM, then a new `tlsad` with the lineage
#                         already up to date (it only reads the lineage)
# In each, after 3 s of quiet (nothing talks to the daemon meanwhile):
#   window 1: SECONDS with nothing attached: voluntary and involuntary
#             context switches of every thread (/proc/PID/task/*/status),
#             CPU time (/proc/PID/stat utime+stime), log lines written
#   window 2: SECONDS under `strace -f -e trace=epoll_wait,epoll_pwait,
#             epoll_pwait2`: epoll calls that returned (a wakeup is a
#             return; the call blocking when strace detaches is not one)
#   memory:   VmRSS, VmHWM, RssAnon, RssFile, threads, open fds; and the
#             timerfds' it_value from /proc/PID/fdinfo (0: disarmed), to
#             show what the daemon would wake up for next
set -eu
here=$(cd "$(dirname "$0")" && pwd)
SECS=${1:-60}
# shellcheck source=../integration/e2e_lib.sh
. "$here/../integration/e2e_lib.sh"
command -v strace >/dev/null 2>&1 || tb_die "strace not found (Debian: strace)"

L=mx.dane.example
e2e_setup
e2e_conf_lineage "$L"
e2e_bootstrap "$L"

ctxt() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
	    awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$2:" '$1 == k { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
log_lines() { e2e_tlsad_log | wc -l; }

measure() {
	local tag=$1 pid=$2 c0 c1 u0 u1 l0 l1 tr calls timers
	sleep 3
	c0=$(ctxt "$pid"); u0=$(cpu_ticks "$pid"); l0=$(log_lines)
	sleep "$SECS"
	c1=$(ctxt "$pid"); u1=$(cpu_ticks "$pid"); l1=$(log_lines)
	tr=$TB_DIR/strace-$tag.txt
	timeout -s INT "$SECS" strace -f -e trace=epoll_wait,epoll_pwait,epoll_pwait2 \
	    -o "$tr" -p "$pid" 2>/dev/null || true
	calls=$(grep -E 'epoll_(p?wait2?)\(|resumed>' "$tr" | grep -c -E '\) += [0-9-]' || true)
	timers=$(for f in /proc/"$pid"/fd/*; do
		[ "$(readlink "$f")" = "anon_inode:[timerfd]" ] || continue
		awk '/^it_value:/ { v = $2 $3 } END { printf "%s ", v }' \
		    "/proc/$pid/fdinfo/${f##*/}"
	done)
	printf '| %s | %s s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |\n' \
	    "$tag" "$SECS" "$((c1 - c0))" "$((u1 - u0))" "$((l1 - l0))" "$calls" \
	    "$(mib "$pid" VmRSS)" \
	    "$(mib "$pid" VmHWM)" \
	    "$(mib "$pid" RssAnon)" \
	    "$(mib "$pid" RssFile)" \
	    "$(kib "$pid" Threads)" "$(find "/proc/$pid/fd" -mindepth 1 | wc -l)" \
	    "${timers% }" >>"$TB_DIR/idle.md"
	sed 's/^/#   strace: /' "$tr" | head -n 10
}

: >"$TB_DIR/idle.md"
assert_eq "after first install: idle" idle "$(e2e_field "$L" stage)"
measure "after first install" "$E2E_TLSAD_PID"

e2e_stop_tlsad
e2e_start_tlsad
sleep 1
e2e_status
assert_eq "restarted: idle" idle "$(e2e_field "$L" stage)"
assert_contains "restarted: nothing rolled over" "$(cat "$TB_DIR/tlsad-$E2E_TLSAD_RUNS.out")" "started: 1 lineage"
measure "restarted, up to date" "$E2E_TLSAD_PID"
assert_not_contains "restarted: no stage change" "$(cat "$TB_DIR/tlsad-$E2E_TLSAD_RUNS.out")" " -> "

printf '\n| daemon | window | context switches | CPU ticks (1/%s s) | log lines | epoll returns under strace | VmRSS (MiB) | VmHWM (MiB) | RssAnon (MiB) | RssFile (MiB) | threads | fds | timerfd it_value (s,ns) |\n' "$(getconf CLK_TCK)"
printf '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n'
cat "$TB_DIR/idle.md"
printf '\n'
tb_done
