#!/usr/bin/env bash
# kensa vs oletools 0.60.2 (olevba, mraptor): files/s, MB/s and peak RSS on the same inputs:
# the Emotet dropper ZIP, oletools' test data, its Excel 4.0 (XLM) samples, and a padded workbook
# (the XLM sample plus 520 MiB of zeros, a sparse file made in the temporary folder).
# See bench/README.md. Usage, from anywhere:   bash bench/run.sh
#
# Environment (all optional):
#   RUNS=3        measured runs per tool and input (the median is reported)
#   WARMUP=1      unrecorded warm-up rounds before them
#   CORPUS=…      folder holding emotet-droppers-2019-06.zip and oletools/ (default ../shared/corpus/office)
#   BENCH_OUT=…   results folder (default bench/runs/<YYYY-MM-DD>-<hostname>)
#   PYTHON=…      interpreter for the virtual environment (default python3)
#   KEEP_LOGS=1   keep the tools' raw output (temporary folder, printed at the end; never under bench/)
#
# The dropper ZIP is real malware: it is never unpacked to disk. Every tool reads the password ZIP
# itself (olevba/mraptor -z, kensa --password, olevba_inprocess.py with zipfile + pwd in memory).
set -euo pipefail

BENCH=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$BENCH/.." && pwd)
CORPUS=${CORPUS:-$ROOT/../shared/corpus/office}
ZIP=$CORPUS/emotet-droppers-2019-06.zip
ZIP_PW=infected
TESTDATA=$CORPUS/oletools
OLETOOLS_VERSION=0.60.2
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-1}
PYTHON=${PYTHON:-python3}
VENV=$BENCH/.venv
HOST=$(hostname -s 2>/dev/null || hostname)
OUT=${BENCH_OUT:-$BENCH/runs/$(date +%F)-$HOST}
# The 50 droppers are the top-level members, named by 64 hex digits; the 31 text extracts
# live under unique_macros/ and unique_powershell/ and are longer, so 64 '?' selects the droppers.
DROPPER_GLOB=$(printf '?%.0s' $(seq 64))

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: FAIL: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "needs root (or sudo) for: $*"
  fi
}
apt_install() {
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
    || { as_root apt-get update \
         && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; }
}

# ---------------------------------------------------------------- 1. tools
[ -f "$ZIP" ] || die "dropper ZIP not found: $ZIP (set CORPUS)"
CORPUS=$(cd -- "$CORPUS" && pwd); ZIP=$CORPUS/emotet-droppers-2019-06.zip; TESTDATA=$CORPUS/oletools
[ -d "$TESTDATA" ] || die "oletools test data not found: $TESTDATA (set CORPUS)"

if ! { [ -x /usr/bin/time ] && /usr/bin/time -v true 2>&1 | grep -q 'Maximum resident set size'; }; then
  apt_install time
fi
command -v "$PYTHON" >/dev/null 2>&1 || { apt_install python3 python3-venv; PYTHON=python3; }
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  if ! "$PYTHON" -m venv "$VENV"; then
    rm -rf -- "$VENV"
    apt_install python3-venv
    "$PYTHON" -m venv "$VENV"
  fi
fi
VPY=$VENV/bin/python
have_oletools=$("$VPY" -c 'import importlib.metadata as m; print(m.version("oletools"))' 2>/dev/null || true)
if [ "$have_oletools" != "$OLETOOLS_VERSION" ]; then
  log "pip install oletools==$OLETOOLS_VERSION"
  "$VPY" -m pip install --disable-pip-version-check -q "oletools==$OLETOOLS_VERSION"
fi
OLEVBA=$VENV/bin/olevba
MRAPTOR=$VENV/bin/mraptor
[ -x "$OLEVBA" ] && [ -x "$MRAPTOR" ] || die "olevba/mraptor missing from $VENV/bin"

command -v cargo >/dev/null 2>&1 || die "cargo not found: install Rust 1.95 (rustup) first"
log "cargo build --release -p kensa-cli"
(cd "$ROOT" && cargo build --release -p kensa-cli)
TARGET_DIR=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 \
  | "$VPY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
KENSA=$TARGET_DIR/release/kensa
[ -x "$KENSA" ] || die "kensa binary not found at $KENSA"

# ---------------------------------------------------------------- 2. inputs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kensa-bench.XXXXXX")
cleanup() {
  if [ "${KEEP_LOGS:-0}" = 1 ]; then log "raw tool output kept in $WORK/logs"
  else chmod -R u+w -- "$WORK" 2>/dev/null || true; rm -rf -- "$WORK"
  fi
}
trap cleanup EXIT
mkdir -p "$WORK/logs" "$OUT"

# Member counts and sizes from the ZIP's central directory (nothing is decrypted here).
read -r N_DROP B_DROP N_ALL B_ALL < <("$VPY" - "$ZIP" "$DROPPER_GLOB" <<'PY'
import fnmatch, sys, zipfile
members = [i for i in zipfile.ZipFile(sys.argv[1]).infolist() if not i.is_dir()]
drop = [i for i in members if fnmatch.fnmatchcase(i.filename, sys.argv[2])]
print(len(drop), sum(i.file_size for i in drop), len(members), sum(i.file_size for i in members))
PY
)
[ "$N_DROP" -eq 50 ] || die "expected 50 top-level droppers in $ZIP, found $N_DROP"

# oletools test data, as one directory: benign files, copied to a temporary folder without
#  - *.zip (password ZIPs of test files; the brief skips them), and
#  - encrypted.* (11 files with a non-default password: the olevba CLI stops the whole batch at
#    the first one it cannot decrypt, so no tool gets them; the *-standardpassword.* ones stay).
STAGE=$WORK/oletools-testdata
mkdir -p "$STAGE"
(cd "$TESTDATA" && find . -type f ! -iname '*.zip' ! -name 'encrypted.*' -exec cp --parents -t "$STAGE" -- {} +)
chmod -R u+w -- "$STAGE"
N_DIR=$(find "$STAGE" -type f | wc -l)
B_DIR=$(find "$STAGE" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
[ "$N_DIR" -gt 0 ] || die "no oletools test files under $TESTDATA"
# XLM: oletools' Excel 4.0 samples in every format (.xls/.xlt/.xlsm/.xltm/.xlsb/.slk/BIFF5).
XLM=$WORK/xlm
mkdir -p "$XLM"
cp -t "$XLM" -- "$TESTDATA"/excel4-macros/*
N_XLM=$(find "$XLM" -type f | wc -l)
B_XLM=$(find "$XLM" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
# Padded: Emotet's 2022-2023 trick, a document inflated with zeros past 500 MB (spec §2.12). A
# sparse file: the zeros cost no disk, every tool still reads all of them.
PAD=$WORK/padded
mkdir -p "$PAD"
cp -- "$TESTDATA/excel4-macros/excel4_sample_macro.xls" "$PAD/invoice.xls"
truncate -s +520M "$PAD/invoice.xls"
B_PAD=$(stat -c %s "$PAD/invoice.xls")
log "inputs: emotet-zip $N_DROP droppers ($B_DROP bytes; $N_ALL members, $B_ALL bytes in all)," \
    "oletools-testdata $N_DIR files ($B_DIR bytes)"

# ---------------------------------------------------------------- machine.txt
{
  echo "date: $(date -Is)"
  echo "uname: $(uname -a)"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)):' || true
  echo "nproc: $(nproc)"
  echo "free -h:"; free -h 2>/dev/null || head -3 /proc/meminfo
  echo "loadavg at start: $(cat /proc/loadavg)"
  echo "rustc: $(rustc --version)"
  echo "cargo: $(cargo --version)"
  echo "python3: $("$VPY" --version 2>&1) (venv of $("$VPY" -c 'import sys; print(getattr(sys, "_base_executable", sys.executable))'))"
  echo "oletools: $("$VPY" -c 'import importlib.metadata as m; print(m.version("oletools"))')"
  echo "venv packages: $("$VPY" -m pip freeze --disable-pip-version-check 2>/dev/null | tr '\n' ' ')"
  echo "kensa: $("$KENSA" --version)"
  echo "kensa git rev: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null || true)
  if [ -n "$dirty" ]; then
    echo "kensa work tree: uncommitted changes in"; printf '%s\n' "$dirty" | sed 's/^/  /'
  else
    echo "kensa work tree: clean"
  fi
  echo "inputs: emotet-zip = $ZIP ($N_DROP top-level droppers, $B_DROP bytes uncompressed;" \
       "$N_ALL members, $B_ALL bytes in all); oletools-testdata = $N_DIR files, $B_DIR bytes" \
       "(from $TESTDATA without *.zip and encrypted.*); xlm = $N_XLM files, $B_XLM bytes" \
       "(excel4-macros/); padded = excel4_sample_macro.xls + 520 MiB of zeros, $B_PAD bytes"
  echo "runs: $RUNS measured (+$WARMUP warm-up) per tool and input, interleaved round by round"
} >"$OUT/machine.txt"

# ---------------------------------------------------------------- 3. checks
# Each check gets the log prefix, the exit code and the expected count, and fails loudly when the
# tool did not process the files. CHECK_WALL, when set, replaces the wall time measured outside.
CHECK_WALL=

kensa_summary() {  # $1 jsonl file -> "items errors exit_code" of the summary line
  "$VPY" -c '
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s = [d for d in s if d.get("type") == "summary"]
print(" ".join(str(s[-1][k]) for k in ("items", "errors", "exit_code")) if s else "none - -")' "$1"
}
check_kensa_zip() {
  local tag=$1 rc=$2
  [ "$rc" -le 2 ] || die "kensa exit $rc on the ZIP (see $tag.err)"
  read -r items errors code < <(kensa_summary "$tag.out")
  [ "$items" = 1 ] && [ "$errors" = 0 ] && [ "$code" = "$rc" ] \
    || die "kensa ZIP summary: items=$items errors=$errors exit_code=$code rc=$rc"
  # the droppers kensa reached inside the ZIP: distinct 64-hex members named in its findings
  local seen
  seen=$("$VPY" -c '
import json, re, sys
seen = set()
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("type") != "item":
        continue
    for f in d.get("findings") or []:
        lp = f.get("location_path") or []
        if len(lp) > 1 and re.fullmatch("[0-9a-f]{64}", lp[1]):
            seen.add(lp[1])
print(len(seen))' "$tag.out")
  [ "$seen" -eq "$N_DROP" ] || die "kensa reported on $seen of $N_DROP droppers"
}
check_kensa_dir() {
  local tag=$1 rc=$2 want=$3
  [ "$rc" -le 2 ] || die "kensa exit $rc on the test data (see $tag.err)"
  read -r items errors code < <(kensa_summary "$tag.out")
  [ "$items" = "$want" ] && [ "$code" = "$rc" ] \
    || die "kensa test-data summary: items=$items (want $want) exit_code=$code rc=$rc"
  [ "$errors" = 0 ] || log "note: kensa reported $errors item errors on the test data"
}
check_olevba_zip() {
  local tag=$1 rc=$2 want=$3 n
  # triage lines "OLE:MAS-HB-- <64 hex>": one per analysed member
  n=$(grep -cE '^[A-Za-z0-9?]{2,3}:[A-Za-z?-]+ +[0-9a-f]{64}$' "$tag.out" || true)
  [ "$n" -eq "$want" ] || die "olevba analysed $n of $want droppers (rc $rc, see $tag.out)"
}
check_olevba_dir() {
  local tag=$1 rc=$2 want=$3 n
  n=$(awk -v p="$STAGE/" 'index($2, p) == 1 {print $2}' "$tag.out" | sort -u | wc -l)
  [ "$n" -eq "$want" ] || die "olevba reported $n of $want test files (rc $rc: it stops at an" \
    "encrypted file it cannot open; see $tag.out)"
}
check_olevba_in() {  # olevba -t on a folder: one triage line per file of folder $CHECK_DIR
  local tag=$1 rc=$2 want=$3 n
  n=$(awk -v p="$CHECK_DIR/" 'index($2, p) == 1 {print $2}' "$tag.out" | sort -u | wc -l)
  [ "$n" -eq "$want" ] || die "olevba reported $n of $want files of $CHECK_DIR (rc $rc, see $tag.out)"
}
check_kensa_padded() {  # one item, the padding found and the macro sheet behind it
  local tag=$1 rc=$2
  check_kensa_dir "$tag" "$rc" 1
  grep -q '"symbol":"INFLATED_FILE"' "$tag.out" && grep -q '"symbol":"XLM_MACRO_SHEET"' "$tag.out" \
    || die "kensa did not report the padding and the macro sheet (see $tag.out)"
}
check_mraptor() {
  local tag=$1 rc=$2 want=$3 n
  case $rc in 0|1|2|10|20) ;; *) die "mraptor exit $rc (see $tag.err)" ;; esac
  n=$(grep -cE '^(SUSPICIOUS|Macro OK|No Macro|ERROR|Not MS Office) *\|' "$tag.out" || true)
  [ "$n" -eq "$want" ] || die "mraptor reported $n of $want files (rc $rc, see $tag.out)"
}
check_inprocess() {
  local tag=$1 rc=$2 want=$3 line files macros
  [ "$rc" -eq 0 ] || die "in-process run failed (rc $rc): $(tail -3 "$tag.err")"
  line=$(tail -n 1 "$tag.out")
  read -r files macros CHECK_WALL < <("$VPY" -c '
import json, sys; d = json.loads(sys.argv[1]); print(d["files"], d["with_macros"], d["seconds"])' "$line")
  [ "$files" -eq "$want" ] || die "in-process run took $files of $want files"
  case $tag in *emotet-zip*) [ "$macros" -eq "$want" ] || die "in-process run found macros in $macros of $want droppers" ;; esac
  printf '%s\n' "$line" >>"$WORK/inprocess.jsonl"
}

# ---------------------------------------------------------------- 4. measure
RAW=$OUT/raw.csv
echo "tool,input,run,files,bytes,wall_s,files_per_s,mb_per_s,peak_rss_kib" >"$RAW"
: >"$WORK/inprocess.jsonl"
: >"$OUT/load.txt"

# measure TOOL INPUT RUN FILES BYTES CHECK WANT -- COMMAND...
measure() {
  local tool=$1 input=$2 run=$3 files=$4 bytes=$5 check=$6 want=$7
  shift 8
  local tag=$WORK/logs/$tool.$input.$run rc=0 t0 t1 wall rss
  CHECK_WALL=
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$tag.time" "$@" >"$tag.out" 2>"$tag.err" || rc=$?
  t1=$(date +%s%N)
  grep -q 'Command terminated by signal' "$tag.time" && die "$tool $input killed: $(head -1 "$tag.time")"
  rss=$(awk -F': *' '/Maximum resident set size/ {print $2}' "$tag.time")
  [ -n "$rss" ] || die "no peak RSS from GNU time for $tool $input"
  "$check" "$tag" "$rc" "$want"
  wall=${CHECK_WALL:-$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", (b - a) / 1e9}')}
  if [ "$run" -ge 1 ]; then
    awk -v t="$tool" -v i="$input" -v r="$run" -v f="$files" -v b="$bytes" -v w="$wall" -v m="$rss" \
      'BEGIN {printf "%s,%s,%d,%d,%d,%.6f,%.3f,%.3f,%d\n", t, i, r, f, b, w, f / w, b / 1e6 / w, m}' >>"$RAW"
  fi
  printf 'bench: run %d %-18s %-17s %8.3f s  %7d KiB  rc %d\n' "$run" "$tool" "$input" "$wall" "$rss" "$rc" >&2
}

INPROC=("$VPY" "$BENCH/olevba_inprocess.py")
for ((run = 1 - WARMUP; run <= RUNS; run++)); do
  echo "round $run: $(date -Is) loadavg $(cat /proc/loadavg)" >>"$OUT/load.txt"
  # emotet-zip. kensa has no member filter: it opens all 81 members (50 droppers + 31 text
  # extracts), so its row counts 81 files and their bytes; the others take the 50 droppers.
  measure kensa             emotet-zip "$run" "$N_ALL"  "$B_ALL"  check_kensa_zip  "$N_DROP" -- \
    "$KENSA" scan --password "$ZIP_PW" --format jsonl -q "$ZIP"
  measure kensa-t1          emotet-zip "$run" "$N_ALL"  "$B_ALL"  check_kensa_zip  "$N_DROP" -- \
    "$KENSA" scan --password "$ZIP_PW" --format jsonl -q --threads 1 "$ZIP"
  measure olevba-cli        emotet-zip "$run" "$N_DROP" "$B_DROP" check_olevba_zip "$N_DROP" -- \
    "$OLEVBA" -t -z "$ZIP_PW" -f "$DROPPER_GLOB" "$ZIP"
  measure mraptor-cli       emotet-zip "$run" "$N_DROP" "$B_DROP" check_mraptor    "$N_DROP" -- \
    "$MRAPTOR" -z "$ZIP_PW" -f "$DROPPER_GLOB" "$ZIP"
  measure olevba-inprocess  emotet-zip "$run" "$N_DROP" "$B_DROP" check_inprocess  "$N_DROP" -- \
    "${INPROC[@]}" --tool olevba --zip "$ZIP" --password "$ZIP_PW" --member-glob "$DROPPER_GLOB" --input-name emotet-zip
  measure mraptor-inprocess emotet-zip "$run" "$N_DROP" "$B_DROP" check_inprocess  "$N_DROP" -- \
    "${INPROC[@]}" --tool mraptor --zip "$ZIP" --password "$ZIP_PW" --member-glob "$DROPPER_GLOB" --input-name emotet-zip
  # oletools-testdata, one directory, the same files for every tool
  measure kensa             oletools-testdata "$run" "$N_DIR" "$B_DIR" check_kensa_dir  "$N_DIR" -- \
    "$KENSA" scan --format jsonl -q "$STAGE"
  measure kensa-t1          oletools-testdata "$run" "$N_DIR" "$B_DIR" check_kensa_dir  "$N_DIR" -- \
    "$KENSA" scan --format jsonl -q --threads 1 "$STAGE"
  measure olevba-cli        oletools-testdata "$run" "$N_DIR" "$B_DIR" check_olevba_dir "$N_DIR" -- \
    "$OLEVBA" -t -r "$STAGE/*"
  measure mraptor-cli       oletools-testdata "$run" "$N_DIR" "$B_DIR" check_mraptor    "$N_DIR" -- \
    "$MRAPTOR" -r "$STAGE/*"
  measure olevba-inprocess  oletools-testdata "$run" "$N_DIR" "$B_DIR" check_inprocess  "$N_DIR" -- \
    "${INPROC[@]}" --tool olevba --dir "$STAGE" --input-name oletools-testdata
  measure mraptor-inprocess oletools-testdata "$run" "$N_DIR" "$B_DIR" check_inprocess  "$N_DIR" -- \
    "${INPROC[@]}" --tool mraptor --dir "$STAGE" --input-name oletools-testdata
  # xlm: the seven Excel 4.0 samples. mraptor ignores XLM (it reads VBA only): its row is speed only.
  CHECK_DIR=$XLM
  measure kensa             xlm "$run" "$N_XLM" "$B_XLM" check_kensa_dir  "$N_XLM" -- \
    "$KENSA" scan --format jsonl -q "$XLM"
  measure olevba-cli        xlm "$run" "$N_XLM" "$B_XLM" check_olevba_in  "$N_XLM" -- \
    "$OLEVBA" -t -r "$XLM/*"
  measure mraptor-cli       xlm "$run" "$N_XLM" "$B_XLM" check_mraptor    "$N_XLM" -- \
    "$MRAPTOR" -r "$XLM/*"
  measure olevba-inprocess  xlm "$run" "$N_XLM" "$B_XLM" check_inprocess  "$N_XLM" -- \
    "${INPROC[@]}" --tool olevba --dir "$XLM" --input-name xlm
  # padded: one 545 MB workbook
  CHECK_DIR=$PAD
  measure kensa             padded "$run" 1 "$B_PAD" check_kensa_padded 1 -- \
    "$KENSA" scan --format jsonl -q "$PAD/invoice.xls"
  measure olevba-cli        padded "$run" 1 "$B_PAD" check_olevba_in    1 -- \
    "$OLEVBA" -t "$PAD/invoice.xls"
  measure mraptor-cli       padded "$run" 1 "$B_PAD" check_mraptor      1 -- \
    "$MRAPTOR" "$PAD/invoice.xls"
done
echo "end: $(date -Is) loadavg $(cat /proc/loadavg)" >>"$OUT/load.txt"
echo "loadavg at end: $(cat /proc/loadavg)" >>"$OUT/machine.txt"

# in-process per-phase seconds (only counts and timings, no tool output)
"$VPY" -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
with open(sys.argv[2], "w") as out:
    for r in rows[-(int(sys.argv[3]) * 5):]:
        out.write(json.dumps(r) + "\n")' "$WORK/inprocess.jsonl" "$OUT/inprocess.jsonl" "$RUNS"

# ---------------------------------------------------------------- 5. summary
"$VPY" "$BENCH/summarize.py" "$OUT" | tee "$OUT/summary.md"
log "results in ${OUT#"$ROOT"/}/ (raw.csv, machine.txt, load.txt, inprocess.jsonl, summary.md)"
