#!/usr/bin/env bash
# kensa host: `host triage` on the corpus hives against regipy (the Python registry parser DFIR
# teams run with its plugins: persistence, services, …), same files, same run; and a full live
# `host check` of kensa.exe under Wine (target: under 2 s). See bench/README.md ("host").
#
#   bash bench/host.sh
#
# Hives: the regipy test hives of the corpus (xz), unpacked to a temporary folder (regipy reads
# plain files only). regipy is installed from PyPI into a virtualenv under the work folder.
# Wine: tools/wine/setup-prefix.sh (needs wine, wine64, gcc-mingw-w64-x86-64 and the rustup target
# x86_64-pc-windows-gnu, as .ci/run installs).
#
# Environment: RUNS=5 (median reported), REGIPY=6.5.0, BENCH_OUT (default
# bench/runs/<date>-<host>-host).
set -euo pipefail

BENCH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$BENCH/.." && pwd)
CORPUS=${CORPUS:-$ROOT/../shared/corpus}
RUNS=${RUNS:-5}
REGIPY=${REGIPY:-6.5.0}
HOST=$(hostname -s 2>/dev/null || hostname)
OUT=${BENCH_OUT:-$BENCH/runs/$(date +%F)-$HOST-host}
log() { printf 'bench-host: %s\n' "$*" >&2; }

work=$(mktemp -d /tmp/kensa-bench-host.XXXXXX)
trap 'WINEPREFIX=$work/wine wineserver -k 2>/dev/null || true; rm -rf "$work"' EXIT

log "cargo build --release -p kensa-cli (Linux and x86_64-pc-windows-gnu)"
(cd "$ROOT" && cargo build --release -p kensa-cli && cargo build --release -p kensa-cli --target x86_64-pc-windows-gnu)
TARGET=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
KENSA=$TARGET/release/kensa
EXE=$TARGET/x86_64-pc-windows-gnu/release/kensa.exe

log "regipy $REGIPY into a virtualenv"
python3 -m venv "$work/venv" >/dev/null
"$work/venv/bin/pip" install -q "regipy[cli]==$REGIPY" >/dev/null

mkdir -p "$work/hives"
for h in SYSTEM NTUSER.DAT NTUSER_modified.DAT; do
  xz -dc "$CORPUS/host/regipy/$h.xz" >"$work/hives/$h"
done

# median wall seconds (nanosecond clock) and max RSS in MiB (GNU time) of RUNS runs of a command
measure() {
  local i t0 t1 r times=() rss=0
  for i in $(seq 1 "$RUNS"); do
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$work/time" "$@" >/dev/null 2>"$work/err" || true
    t1=$(date +%s%N)
    times+=("$(((t1 - t0) / 1000))")
    # GNU time puts "Command exited with non-zero status N" first when the exit code is not 0.
    r=$(tail -n 1 "$work/time")
    ((r > rss)) && rss=$r
  done
  local us
  us=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
  printf '%s %s\n' "$(python3 -c "print(f'{$us / 1e6:.3f}')")" "$((rss / 1024))"
}

mkdir -p "$OUT"
{
  echo "# kensa host benchmark"
  echo
  echo "$(date -u +%FT%TZ), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(uname -sr), $(wine --version 2>/dev/null), load before: $(cut -d' ' -f1-3 /proc/loadavg); median of $RUNS runs"
  echo
  echo "| hive | size | kensa host triage (all checks) | RSS | regipy-plugins-run (all plugins) | RSS | ratio |"
  echo "|---|---|---|---|---|---|---|"
} >"$OUT/summary.md"
for h in SYSTEM NTUSER.DAT NTUSER_modified.DAT; do
  mkdir -p "$work/one-$h"
  cp "$work/hives/$h" "$work/one-$h/"
  read -r kt kr < <(measure "$KENSA" host triage "$work/one-$h" --no-report --quiet --format json)
  read -r rt rr < <(measure "$work/venv/bin/regipy-plugins-run" "$work/hives/$h" -o "$work/regipy-$h.json")
  [ -s "$work/regipy-$h.json" ] || { log "regipy wrote no results for $h: $(tail -3 "$work/err")"; exit 1; }
  { "$KENSA" host triage "$work/one-$h" --no-report --quiet --format json || true; } | grep -q '"summary"' \
    || { log "kensa host triage gave no report for $h"; exit 1; }
  size=$(($(stat -c %s "$work/hives/$h") / 1024))
  ratio=$(python3 -c "print(f'{$rt / max($kt, 0.0001):.1f}×')")
  echo "| $h | $size KiB | ${kt} s | ${kr} MiB | ${rt} s | ${rr} MiB | $ratio |" >>"$OUT/summary.md"
done

# The whole triage folder: every corpus hive and the 202 Windows 10 task files.
mkdir -p "$work/triage/System32"
cp "$CORPUS"/host/regipy/*.xz "$work/triage/"
cp -r "$CORPUS/host/tasks-win10" "$work/triage/System32/Tasks"
read -r t r < <(measure "$KENSA" host triage "$work/triage" --no-report --quiet --format json)
{
  echo
  echo "Whole corpus folder (7 xz hives incl. the corrupted one, 202 task files): kensa host triage ${t} s, ${r} MiB."
} >>"$OUT/summary.md"

log "Wine prefix"
sh "$ROOT/tools/wine/setup-prefix.sh" "$work/wine" >/dev/null
export WINEPREFIX=$work/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine "$EXE" host check --no-report --quiet >/dev/null 2>&1 || true   # warm the prefix
{ wine "$EXE" host check --no-report --quiet --format json 2>/dev/null || true; } | grep -q '"summary"' \
  || { log "kensa.exe host check under Wine gave no report"; exit 1; }
read -r t r < <(measure wine "$EXE" host check --no-report --quiet --format json)
{
  echo
  echo "Live \`kensa.exe host check\` under Wine (release, warm prefix, whole check incl. Wine start-up): ${t} s, peak RSS of the wine launcher ${r} MiB. Target: under 2 s."
} >>"$OUT/summary.md"
cat "$OUT/summary.md"
