#!/usr/bin/env bash
# Makes a REAL Postfix log with an outbound burst, for crates/kensa-net/tests/maillog_postfix.rs.
#
#   postfix-burst.sh OUTPUT_LOG
#
# Runs as root (CI). Installs nothing: needs the Debian/Ubuntu packages `postfix` (postfix,
# postconf, postqueue, postsuper) and `swaks`. Non-interactive install:
#   echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
#   DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix swaks
#
# What it does: a throwaway Postfix instance in a temp dir (its own config_directory,
# queue_directory, data_directory and maillog_file, written by postlogd; Postfix >= 3.4), listening
# on 127.0.0.1 only, on a non-standard port (2525, or the next free one up to 2544). It never
# uses the system instance (/etc/postfix, /var/spool/postfix) or port 25, and nothing leaves the
# machine: every transport is discard: (plus error:/retry: for two test domains). Clients are
# simulated with XCLIENT (allowed from 127.0.0.0/8 only): ADDR sets the client address, LOGIN the
# SASL account (logged as sasl_method=XCLIENT, sasl_username=…), so no SASL backend is needed.
#
# Traffic, all within about a minute:
#   * carol (10.1.6.10): 3 normal messages, 2 recipients each, to partner.example;
#   * alice from the infected PC 10.1.6.206: 60 messages to 60 recipients on 12 domains
#     (victim1.example … victim12.example), 2 of them to bounce.example (bounced), 1 to
#     defer.example (deferred, then deleted with postsuper), plus 1 recipient refused at RCPT
#     time (NOQUEUE-style reject) and 2 messages with a foreign envelope sender;
#   * alice's account also used from 10.1.6.207 and 10.1.6.208 (1 message each).
# Then it waits for the queue to drain, deletes the deferred message, stops the instance, copies
# the log to OUTPUT_LOG and removes the temp dir (also on failure: trap).
set -euo pipefail

out=${1:?usage: postfix-burst.sh OUTPUT_LOG}
export PATH="$PATH:/usr/sbin:/sbin"

missing=()
for tool in postfix postconf postqueue postsuper swaks; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    echo "postfix-burst.sh: missing ${missing[*]}: install the packages 'postfix' and 'swaks'" \
        "(echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections;" \
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postfix swaks)" >&2
    exit 3
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "postfix-burst.sh: must run as root (Postfix's master starts as root)" >&2
    exit 3
fi
getent passwd postfix >/dev/null || { echo "postfix-burst.sh: no 'postfix' user (is the package installed?)" >&2; exit 3; }
getent group postdrop >/dev/null || { echo "postfix-burst.sh: no 'postdrop' group" >&2; exit 3; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=""
for p in $(seq 2525 2544); do
    if ! port_in_use "$p"; then port=$p; break; fi
done
[[ -n $port ]] || { echo "postfix-burst.sh: no free port in 127.0.0.1:2525-2544" >&2; exit 3; }

dir=$(mktemp -d /tmp/kensa-postfix.XXXXXX)
conf=$dir/conf
started=0
cleanup() {
    local rc=$?
    if ((started)); then
        postfix -c "$conf" stop >/dev/null 2>&1 || true
        for _ in $(seq 1 50); do
            postfix -c "$conf" status >/dev/null 2>&1 || break
            sleep 0.2
        done
        # Still up after 10 s: kill this instance's master (pid from its own queue dir only).
        if [[ -s $dir/queue/pid/master.pid ]]; then
            kill "$(tr -dc 0-9 <"$dir/queue/pid/master.pid")" 2>/dev/null || true
        fi
    fi
    if ((rc != 0)); then
        echo "postfix-burst.sh: failed (exit $rc); last log lines:" >&2
        tail -n 30 "$dir/maillog" >&2 2>/dev/null || true
        tail -n 20 "$dir/swaks.log" >&2 2>/dev/null || true
    fi
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$conf" "$dir/queue" "$dir/data"
chmod 755 "$dir"
chown postfix:postfix "$dir/data"

# shellcheck source=../../../../tools/postfix/instance.sh
. "$(dirname "$0")/../../../../tools/postfix/instance.sh"
postfix_compat >/dev/null

{ postfix_main_common "$dir"; cat <<MAIN
mynetworks = 127.0.0.0/8, 10.0.0.0/8
smtpd_authorized_xclient_hosts = 127.0.0.0/8
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_reject_unlisted_recipient = no
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access inline:{ {blocked@reject.example = 554 5.7.1 recipient refused by policy} }
default_transport = discard:kensa-test
relay_transport = discard:kensa-test
local_transport = discard:kensa-test
virtual_transport = discard:kensa-test
transport_maps = inline:{ {bounce.example = error:5.1.1 mailbox unavailable}, {defer.example = retry:4.4.1 try again later} }
MAIN
} >"$conf/main.cf"

# No chroot, nothing on port 25: the listener and the shared services (tools/postfix).
{ echo "127.0.0.1:$port inet n - n - - smtpd"; postfix_master_common; } >"$conf/master.cf"

postfix -c "$conf" check
started=1
postfix -c "$conf" start
for _ in $(seq 1 50); do
    port_in_use "$port" && break
    sleep 0.2
done
port_in_use "$port" || { echo "postfix-burst.sh: smtpd did not come up on 127.0.0.1:$port" >&2; exit 1; }

# send ADDR LOGIN FROM TO[,TO…]
send() {
    local args=(--server 127.0.0.1 --port "$port" --helo "ws-${1//./-}.corp.test"
        --xclient-addr "$1" --xclient-name "ws-${1//./-}.corp.test"
        --from "$3" --to "$4" --h-Subject "kensa test $RANDOM" --body "test message")
    [[ $2 != - ]] && args+=(--xclient-login "$2")
    # swaks exits 24 when some (not all) recipients were refused: expected for the reject test.
    swaks "${args[@]}" >>"$dir/swaks.log" 2>&1 || { rc=$?; [[ $rc -eq 24 ]] || return "$rc"; }
}

for i in 1 2 3; do
    send 10.1.6.10 carol carol@corp.test "p$i@partner.example,q$i@partner.example"
done
for i in $(seq 1 60); do
    case $i in
        7 | 31) to="user$i@bounce.example" ;;
        45) to="user$i@defer.example" ;;
        20) to="user$i@victim$(((i % 12) + 1)).example,blocked@reject.example" ;;
        *) to="user$i@victim$(((i % 12) + 1)).example" ;;
    esac
    from=alice@corp.test
    if ((i == 10 || i == 50)); then from=invoice@billing-othercorp.example; fi
    send 10.1.6.206 alice "$from" "$to"
done
send 10.1.6.207 alice alice@corp.test "friend1@partner.example"
send 10.1.6.208 alice alice@corp.test "friend2@partner.example"

# Wait until only the deferred message is left (at most 60 s), then delete it.
for _ in $(seq 1 120); do
    pending=$(postqueue -c "$conf" -j 2>/dev/null | grep -vc '"queue_name": *"deferred"' || true)
    [[ $pending -eq 0 ]] && break
    sleep 0.5
done
[[ $pending -eq 0 ]] || { echo "postfix-burst.sh: queue did not drain" >&2; exit 1; }
postsuper -c "$conf" -d ALL deferred >/dev/null 2>&1 || true
sleep 1

postfix -c "$conf" stop >/dev/null
for _ in $(seq 1 50); do
    postfix -c "$conf" status >/dev/null 2>&1 || break
    sleep 0.2
done
started=0
cp "$dir/maillog" "$out"
