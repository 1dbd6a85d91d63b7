#!/bin/bash
#
# t_e2e_reuse.sh -- a renewal with the same key (certbot --reuse-key): no DNS
# change at all (no UPDATE, the RRset unchanged), but the new certificate is
# deployed, Postfix reloaded and probed at once (no hold).  The invariant
# monitor watches the whole time.
#
. "$(dirname "$0")/e2e_lib.sh"

L=mx.dane.example
N=$(e2e_tlsa_name "$L")
e2e_setup
e2e_conf_lineage "$L"
e2e_bootstrap "$L"
K1=$K1_1

served_cert() {
	timeout 10 openssl s_client -connect "$PF_ADDR:$PF_PORT" -starttls smtp \
	    -servername "$L" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'
}
live_cert() { openssl x509 -in "$E2E_LIVE/$L/cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//'; }

c1=$(served_cert)
assert_eq "Postfix serves certificate version 1" "$(live_cert)" "$c1"
mon_start main "$PF_ADDR" "$PF_PORT" "$L" "$N"
sleep 1

updates0=$(tb_update_count)
loglines0=$(e2e_tlsad_log | wc -l)
serial0=$(tb_serial "$TB_PRIMARY")
reloads0=$(pf_reload_count)
t0=$(date +%s%N)
v2=$(renew_lineage "$E2E_LIVE" "$E2E_ARCHIVE" "$L" --reuse-key)
assert_eq "renewal with --reuse-key: version 2" 2 "$v2"
assert_eq "the key is the same" "$K1" "$(rn_spki "$E2E_LIVE/$L/cert.pem")"
c2=$(live_cert)
assert_ok "the certificate is new" [ "$c1" != "$c2" ]

# Deployed without a hold: the served certificate changes within a few
# seconds (quiet period 0.5 s + deploy + reload + probe), far less than the
# 4 s hold a key change would need plus the renewal's own 0.6 s.
ok=0
for _i in $(seq 1 100); do
	e2e_status
	if [ "$(e2e_field "$L" stage)" = idle ] && [ "$(served_cert)" = "$c2" ]; then
		ok=1
		break
	fi
	sleep 0.1
done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
printf '# the new certificate was served %d ms after the renewal began\n' "$ms"
assert_eq "Postfix serves the new certificate, lineage idle" 1 "$ok"
assert_ok "served within 15 s of the renewal ($ms ms)" [ "$ms" -lt 15000 ]
assert_ok "Postfix was reloaded" [ "$(pf_reload_count)" -gt "$reloads0" ]
sleep 1
mon_stop main

assert_eq "no UPDATE was sent" "$updates0" "$(tb_update_count)"
assert_eq "the zone's serial did not change" "$serial0" "$(tb_serial "$TB_PRIMARY")"
for a in "$TB_PRIMARY" "$TB_SECONDARY" "$TB_RESOLVER"; do
	assert_eq "$a still serves the one record" "$K1" "$(e2e_rrset "$a" "$N")"
done
assert_eq "the deploy file holds version 2's chain" \
    "$(cat "$E2E_LIVE/$L/privkey.pem" "$E2E_LIVE/$L/fullchain.pem")" "$(cat "$PF_DEPLOY")"
e2e_status
assert_eq "status: exit 0" 0 "$E2E_RC"
assert_eq "status: idle" idle "$(e2e_field "$L" stage)"
assert_eq "status: published is the one key" "$K1" "$(e2e_field "$L" published)"
assert_eq "status: no problems" - "$(e2e_field "$L" problems)"
# Only the renewal's part of the log: the first install before it holds.
log=$(e2e_tlsad_log | tail -n +"$((loglines0 + 1))")
assert_contains "tlsad went from idle straight to deploy" "$log" "$L: idle -> deploy"
assert_not_contains "tlsad did not hold for the renewal" "$log" "-> hold"
assert_not_contains "tlsad never published" "$log" "-> publish"
assert_contains "tlsad deployed version 2" "$log" "deployed archive version 2"

mon_check main 3
assert_ok "monitor: saw the key served" [ "$(mon_obs_of main "$K1")" -ge 3 ]
e2e_done
