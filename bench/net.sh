#!/usr/bin/env bash
# kensa net analyze vs tshark field extraction on the same large capture: MB/s, packets/s, peak RSS.
# See bench/README.md ("net"). Usage, from anywhere:   bash bench/net.sh
#
# The capture is built at benchmark time with mergecap (Debian's wireshark-common) by appending
# COPIES copies of the benign corpus capture slips-test-cc-capture-1.pcap (curl to testing.com
# every 2 s; 2 MB): about 116 MB, the size of the spec's anchor. The Unit 42 capture is not used:
# it holds a malware download and stays inside its password ZIP.
#
# Environment: RUNS=3 (median reported), COPIES=56, BENCH_OUT (default bench/runs/<date>-<host>-net).
set -euo pipefail

BENCH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$BENCH/.." && pwd)
SRC=${SRC:-$ROOT/../shared/corpus/net/slips-test-cc-capture-1.pcap}
RUNS=${RUNS:-3}
COPIES=${COPIES:-56}
HOST=$(hostname -s 2>/dev/null || hostname)
OUT=${BENCH_OUT:-$BENCH/runs/$(date +%F)-$HOST-net}

log() { printf 'bench-net: %s\n' "$*" >&2; }
die() { printf 'bench-net: FAIL: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

[ -f "$SRC" ] || die "capture not found: $SRC"
need=()
command -v tshark >/dev/null || need+=(tshark)
command -v mergecap >/dev/null || need+=(wireshark-common)
{ [ -x /usr/bin/time ] && /usr/bin/time -v true 2>&1 | grep -q 'Maximum resident'; } || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get install ${need[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" \
    || { as_root apt-get update -qq \
         && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"; }
fi
log "cargo build --release -p kensa-cli"
(cd "$ROOT" && cargo build --release -p kensa-cli)
KENSA=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/kensa

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kensa-bench-net.XXXXXX")
trap 'rm -rf -- "$WORK"' EXIT
BIG=$WORK/merged.pcap
copies=()
for _ in $(seq "$COPIES"); do copies+=("$SRC"); done
mergecap -a -F pcap -w "$BIG" "${copies[@]}"
BYTES=$(stat -c %s "$BIG")
PACKETS=$(capinfos -M -c "$BIG" | awk -F': *' '/Number of packets/ {print $2}' | tr -d ' ')
[ -n "$PACKETS" ] || die "capinfos gave no packet count"
log "input: $COPIES copies of $(basename "$SRC"): $BYTES bytes, $PACKETS packets"

mkdir -p "$OUT"
{
  echo "date: $(date -Is)"
  echo "uname: $(uname -a)"
  lscpu | grep -E '^(Model name|CPU\(s\)):' || true
  echo "loadavg at start: $(cat /proc/loadavg)"
  echo "kensa: $("$KENSA" --version) @ $(git -C "$ROOT" rev-parse --short=12 HEAD)"
  echo "tshark: $(tshark --version | head -1)"
  echo "input: mergecap -a of $COPIES x $(basename "$SRC") = $BYTES bytes, $PACKETS packets"
  echo "runs: $RUNS per tool, interleaved"
} >"$OUT/machine.txt"

RAW=$OUT/raw.csv
echo "tool,run,wall_s,peak_rss_kib" >"$RAW"
measure() {  # TOOL RUN -- COMMAND...
  local tool=$1 run=$2; shift 3
  local t0 t1 rss
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || true
  t1=$(date +%s%N)
  rss=$(awk -F': *' '/Maximum resident set size/ {print $2}' "$WORK/time")
  case $tool in
    kensa*) grep -q '"type":"summary"' "$WORK/out" || die "kensa produced no summary: $(tail -3 "$WORK/err")"
            grep -q "\"records\":$PACKETS" "$WORK/out" || die "kensa did not read all $PACKETS packets" ;;
    tshark*) [ "$(wc -l <"$WORK/out")" -eq "$PACKETS" ] || die "tshark printed $(wc -l <"$WORK/out") lines, not $PACKETS" ;;
  esac
  awk -v t="$tool" -v r="$run" -v a="$t0" -v b="$t1" -v m="$rss" \
    'BEGIN {printf "%s,%d,%.6f,%d\n", t, r, (b - a) / 1e9, m}' >>"$RAW"
  log "run $run $tool $(tail -1 "$RAW" | cut -d, -f3) s, $rss KiB"
}
STORE=$WORK/store
mkdir -p "$STORE"
for run in $(seq 0 "$RUNS"); do   # run 0 warms the page cache, recorded and dropped below
  measure tshark-fields "$run" -- tshark -n -r "$BIG" -T fields \
    -e frame.time_epoch -e ip.src -e ip.dst -e tcp.dstport
  measure kensa-net "$run" -- "$KENSA" net analyze --store "$STORE" --format jsonl -q "$BIG"
done
echo "loadavg at end: $(cat /proc/loadavg)" >>"$OUT/machine.txt"

python3 - "$RAW" "$BYTES" "$PACKETS" >"$OUT/summary.md" <<'PY'
import csv, statistics, sys
raw, nbytes, packets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [r for r in csv.DictReader(open(raw)) if int(r["run"]) >= 1]
med = {}
for tool in ("kensa-net", "tshark-fields"):
    rs = [r for r in rows if r["tool"] == tool]
    wall = statistics.median(float(r["wall_s"]) for r in rs)
    rss = statistics.median(int(r["peak_rss_kib"]) for r in rs)
    med[tool] = (wall, rss)
print("# kensa net analyze vs tshark\n")
print(f"{packets} packets, {nbytes / 1e6:.1f} MB; median of {len(rows) // 2} runs\n")
print("| tool | wall s | MB/s | packets/s | peak RSS MiB |")
print("|---|---:|---:|---:|---:|")
labels = {"kensa-net": "kensa net analyze (full analysis, JSONL)",
          "tshark-fields": "tshark -T fields (4 fields)"}
for tool, (wall, rss) in med.items():
    print(f"| {labels[tool]} | {wall:.3f} | {nbytes / 1e6 / wall:.1f} | {packets / wall:,.0f} | {rss / 1024:.1f} |")
k, t = med["kensa-net"][0], med["tshark-fields"][0]
print(f"\n- kensa is {t / k:.1f}x tshark's speed (target: at least 10x)")
PY
cat "$OUT/summary.md"
log "results in ${OUT#"$ROOT"/}/"
