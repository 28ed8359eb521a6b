#!/usr/bin/env bash
# kensa milter: messages/s and the latency it adds, through a real Postfix, at 1, 10 and 50
# concurrent SMTP connections, on a mix of corpus messages; and the milter alone, driven by a fake
# MTA (the milter protocol straight to kensa). See bench/README.md ("milter").
#
#   bash bench/milter.sh          (as root: Postfix's master starts as root)
#
# One throwaway Postfix (crates/kensa-cli/tests/support/postfix-milter.sh) listens twice on
# 127.0.0.1: one smtpd with `smtpd_milters` = kensa, one without; delivered mail is discarded. The
# same load (crates/kensa-milter/examples/load.rs, release) runs against both, so the difference
# is what kensa adds. Mix: the first MIX_HAM SpamAssassin easy-ham messages, MIX_SPAM spam-1
# messages, and the eight OLE/VBA-macro test mails (zippwmacro.eml among them).
#
# Environment: MESSAGES=600 per run, MIX_HAM=150, MIX_SPAM=50, BENCH_OUT (default
# bench/runs/<date>-<host>-milter).
set -euo pipefail

BENCH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$BENCH/.." && pwd)
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
MESSAGES=${MESSAGES:-600}
MIX_HAM=${MIX_HAM:-150}
MIX_SPAM=${MIX_SPAM:-50}
HOST=$(hostname -s 2>/dev/null || hostname)
OUT=${BENCH_OUT:-$BENCH/runs/$(date +%F)-$HOST-milter}
PF=$ROOT/crates/kensa-cli/tests/support/postfix-milter.sh

log() { printf 'bench-milter: %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "run as root (Postfix)"; exit 1; }

log "cargo build --release -p kensa-cli -p kensa-milter --example load"
(cd "$ROOT" && cargo build --release -p kensa-cli && cargo build --release -p kensa-milter --example load)
TARGET=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
KENSA=$TARGET/release/kensa
LOAD=$TARGET/release/examples/load

mapfile -t MIX < <(
  find "$CORPUS/mail/spamassassin-public/easy-ham-1" -name '*.txt' | sort | sed -n "1,${MIX_HAM}p"
  find "$CORPUS/mail/spamassassin-public/spam-1" -name '*.txt' | sort | sed -n "1,${MIX_SPAM}p"
  find "$CORPUS/mail/spamassassin-tests/spam/olevbmacro" -name '*.eml' | sort
)
log "${#MIX[@]} messages in the mix"

work=$(mktemp -d /tmp/kensa-bench-milter.XXXXXX)
chmod 755 "$work"   # Postfix daemons (user postfix) must reach the queue below it
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MPORT=$(free_port); SMTP=$(free_port); REINJECT=$(free_port)
cat >"$work/kensa.toml" <<TOML
listen = "inet:127.0.0.1:$MPORT"
store = "$work/quarantine.db"
TOML
"$KENSA" milter --config "$work/kensa.toml" 2>"$work/milter.log" &
MPID=$!
cleanup() {
  kill "$MPID" 2>/dev/null || true
  bash "$PF" stop "$work/postfix" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$MPORT") 2>/dev/null && break; sleep 0.1; done
bash "$PF" start "$work/postfix" "$SMTP" "$REINJECT" "$MPORT" discard
bash "$PF" set "$work/postfix" 'default_process_limit = 150'

mkdir -p "$OUT"
{
  echo "# kensa milter benchmark"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -sr), Postfix $(postconf -d -h mail_version), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "Mix: ${#MIX[@]} messages (easy-ham $MIX_HAM, spam-1 $MIX_SPAM, olevbmacro 8); $MESSAGES messages per run; latency = MAIL FROM to the reply after the final dot (SMTP) or MAIL to the end-of-message reply (milter)."
  echo
  echo "| path | conns | msg/s | p50 ms | p99 ms | max ms | errors |"
  echo "|---|---|---|---|---|---|---|"
} >"$OUT/summary.md"
: >"$OUT/raw.jsonl"
row() {
  local label=$1 json=$2
  echo "$json" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f\"| $label | {d['concurrency']} | {d['per_second']:.0f} | {d['p50_ms']:.2f} | {d['p99_ms']:.2f} | {d['max_ms']:.1f} | {d['errors']} |\")" >>"$OUT/summary.md"
  echo "$json" >>"$OUT/raw.jsonl"
}
for c in 1 10 50; do
  log "concurrency $c"
  row "Postfix without milter" "$("$LOAD" smtp "127.0.0.1:$REINJECT" "$c" "$MESSAGES" "${MIX[@]}")"
  row "Postfix + kensa milter" "$("$LOAD" smtp "127.0.0.1:$SMTP" "$c" "$MESSAGES" "${MIX[@]}")"
  row "kensa milter alone (fake MTA)" "$("$LOAD" milter "127.0.0.1:$MPORT" "$c" "$MESSAGES" "${MIX[@]}")"
done
echo >>"$OUT/summary.md"
echo "Verdicts over the run (milter log): $(grep -o 'action=[a-z]*' "$work/milter.log" | sort | uniq -c | tr '\n' ' ')" >>"$OUT/summary.md"
cat "$OUT/summary.md"
