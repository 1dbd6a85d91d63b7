#!/bin/sh
# install-deps.sh -- install what tlsad's build, tests and demo need on Debian 12.
# Safe on a production-like machine: no daemon is started by the install
# (a temporary policy-rc.d forbids it) and Postfix is left unconfigured.
set -eu

[ "$(id -u)" -eq 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }

PKGS="cmake make gcc pkg-config libssl-dev libldns-dev libunbound-dev
libcurl4-openssl-dev libevent-dev libcmocka-dev openssl ca-certificates iproute2 procps
bind9 bind9-dnsutils unbound unbound-host postfix ldnsutils hash-slinger strace python3
hyperfine"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
mine=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	mine=1
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q $missing
# The packaged services must not hold :53 or :25; policy-rc.d kept them from
# starting, but stop them anyway in case they were running before.
if [ -n "$mine" ]; then
	for s in named unbound postfix; do
		systemctl stop "$s" >/dev/null 2>&1 || true
	done
fi
