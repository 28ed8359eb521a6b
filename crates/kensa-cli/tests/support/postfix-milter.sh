#!/usr/bin/env bash
# A throwaway Postfix in front of `kensa milter`, for crates/kensa-cli/tests/milter_postfix.rs.
#
#   postfix-milter.sh start DIR SMTP_PORT REINJECT_PORT MILTER_PORT SINK_PORT
#   postfix-milter.sh set DIR 'name = value'…     # postconf -e + reload
#   postfix-milter.sh queue DIR                   # postqueue -j (one JSON object per message)
#   postfix-milter.sh log DIR                     # the instance's log
#   postfix-milter.sh stop DIR
#
# Runs as root (Postfix's master starts as root). Needs the Debian packages `postfix` and `swaks`
# (.ci/run installs them: echo "postfix postfix/main_mailer_type select No configuration" |
# debconf-set-selections; apt-get install -y --no-install-recommends postfix swaks).
#
# The instance has its own config, queue and log under DIR and listens on 127.0.0.1 only:
#   SMTP_PORT      smtpd with smtpd_milters = inet:127.0.0.1:MILTER_PORT (milter_default_action
#                  = tempfail, the recommended setting; tests change it with `set`);
#   REINJECT_PORT  smtpd without milters: where `kensa quarantine release` delivers;
# and delivers everything by SMTP to 127.0.0.1:SINK_PORT (relayhost; the test's own SMTP sink;
# SINK_PORT `discard` throws delivered mail away instead, for the benchmark),
# so the test sees the exact bytes Postfix would hand to the next hop. No DNS, nothing on port
# 25, no header rewriting (local_header_rewrite_clients is empty), so a delivered message differs
# from what was sent only by Postfix's Received: line and the milter's edits.
set -euo pipefail
export PATH="$PATH:/usr/sbin:/sbin"

# shellcheck source=../../../../tools/postfix/instance.sh
. "$(dirname "$0")/../../../../tools/postfix/instance.sh"

cmd=${1:?usage: postfix-milter.sh start|set|queue|log|stop DIR …}
dir=${2:?DIR}
conf=$dir/conf

case $cmd in
start)
    smtp=${3:?SMTP_PORT} reinject=${4:?REINJECT_PORT} milter=${5:?MILTER_PORT} sink=${6:?SINK_PORT}
    for tool in postfix postconf postqueue postsuper; do
        command -v "$tool" >/dev/null || {
            echo "postfix-milter.sh: $tool missing: install the Debian package 'postfix'" >&2
            exit 3
        }
    done
    [[ $(id -u) -eq 0 ]] || { echo "postfix-milter.sh: must run as root" >&2; exit 3; }
    mkdir -p "$conf" "$dir/queue" "$dir/data"
    chmod 755 "$dir"
    chown postfix:postfix "$dir/data"
    postfix_compat >/dev/null
    { postfix_main_common "$dir"; cat <<MAIN
mynetworks = 127.0.0.0/8
local_header_rewrite_clients =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
$(if [[ $sink == discard ]]; then
    echo "default_transport = discard:kensa-bench"
    echo "relay_transport = discard:kensa-bench"
else
    echo "relayhost = [127.0.0.1]:$sink"
    echo "default_transport = smtp"
    echo "relay_transport = smtp"
fi)
smtp_host_lookup = native
smtp_tls_security_level = none
smtpd_milters = inet:127.0.0.1:$milter
milter_default_action = tempfail
milter_protocol = 6
# Keep every header as sent (Postfix drops Return-Path by default), so the test can compare bytes.
message_drop_headers = bcc, content-length, resent-bcc
MAIN
    } >"$conf/main.cf"
    {
        echo "127.0.0.1:$smtp inet n - n - - smtpd"
        echo "127.0.0.1:$reinject inet n - n - - smtpd -o smtpd_milters= -o syslog_name=postfix/reinject"
        postfix_master_common
    } >"$conf/master.cf"
    postfix -c "$conf" check
    postfix -c "$conf" start >/dev/null 2>&1
    for _ in $(seq 1 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$smtp") 2>/dev/null && exit 0
        sleep 0.2
    done
    echo "postfix-milter.sh: smtpd did not come up on 127.0.0.1:$smtp" >&2
    tail -n 20 "$dir/maillog" >&2 || true
    exit 1
    ;;
set)
    shift 2
    postconf -c "$conf" -e "$@"
    postfix -c "$conf" reload >/dev/null 2>&1
    sleep 1
    ;;
queue)
    postqueue -c "$conf" -j
    ;;
log)
    cat "$dir/maillog"
    ;;
stop)
    postfix -c "$conf" stop >/dev/null 2>&1 || true
    for _ in $(seq 1 50); do
        postfix -c "$conf" status >/dev/null 2>&1 || break
        sleep 0.2
    done
    if [[ -s $dir/queue/pid/master.pid ]]; then
        kill "$(tr -dc 0-9 <"$dir/queue/pid/master.pid")" 2>/dev/null || true
    fi
    ;;
*)
    echo "postfix-milter.sh: unknown command $cmd" >&2
    exit 3
    ;;
esac
