#!/usr/bin/env bash
# Fuzz every kensa parser for a while.
#
#   fuzz/run.sh [SECONDS] [TARGET...]     run each target SECONDS seconds (default 60), all targets
#                                         when none is named, one after the other
#   fuzz/run.sh --seed-only               only (re)fill fuzz/corpus/<target>/ with seed files
#
# Environment:
#   KEEP_GOING=1   libFuzzer fork mode (-fork=1 -ignore_crashes/timeouts/ooms=1): a target keeps
#                  running after a crash and every crash input lands in fuzz/artifacts/<target>/
#   CORPUS_ROOT    where the shared sample corpus is (default: ../../shared/corpus from here)
#   SEED_SAMPLE_ARCHIVE=1  also seed `zip` with the (encrypted, never unpacked) Emotet sample
#                  archive itself; slow, see seed_corpora
#   FUZZ_ARGS      extra libFuzzer arguments for every target
#
# Only a stable toolchain is needed: cargo-fuzz passes nightly-only flags (-Zsanitizer=address,
# sancov passes), which stable rustc accepts with RUSTC_BOOTSTRAP=1.
#
# Each run's libFuzzer output goes to fuzz/artifacts/logs/<target>.log; a summary table (runs,
# seconds, crashes) is printed at the end. The exit status is 1 when any target found a crash,
# timeout or out-of-memory input.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

ALL_TARGETS=(mime_walk mime_rfc822_alphabet zip cfb ovba ppt vba_scan password xlm lnk rtf dde iso onenote html msg script pad decrypt capture zeek netproto intel beacon maillog hive regexport task proclist emocheck milter)
CORPUS_ROOT="${CORPUS_ROOT:-$here/../../shared/corpus}"
export RUSTC_BOOTSTRAP=1

# ------------------------------------------------------------------------------------------------
# Seeds

# Copy one seed file into fuzz/corpus/<target>/ under its path-derived name (never overwriting).
add_seed() {
    local target="$1" file="$2" name
    [ -f "$file" ] || return 0
    name="$(printf '%s' "${file#"$CORPUS_ROOT"/}" | tr '/ ' '__')"
    mkdir -p "corpus/$target"
    cp -n "$file" "corpus/$target/$name" 2>/dev/null || true
}

is_ole() { [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "d0cf11e0a1b11ae1" ]; }
is_zip() { [ "$(head -c 2 "$1")" = "PK" ]; }

seed_corpora() {
    mkdir -p corpus
    local t
    for t in "${ALL_TARGETS[@]}"; do
        mkdir -p "corpus/$t"
    done
    if [ ! -d "$CORPUS_ROOT" ]; then
        echo "note: no sample corpus at $CORPUS_ROOT; fuzzing from fuzz/regressions only" >&2
        return 0
    fi

    # Mail: the SpamAssassin OLE/VBA macro test messages and a few of mail-parser's test messages
    # (the first five of each of its folders: legacy, malformed, rfc, thirdparty).
    local f d
    for f in "$CORPUS_ROOT"/mail/spamassassin-tests/spam/olevbmacro/*.eml; do
        for t in mime_walk mime_rfc822_alphabet password; do
            add_seed "$t" "$f"
        done
    done
    for d in "$CORPUS_ROOT"/mail/mail-parser/*/; do
        find "$d" -maxdepth 1 -type f | sort | head -n 5 | while read -r f; do
            for t in mime_walk mime_rfc822_alphabet password; do
                add_seed "$t" "$f"
            done
        done
    done

    # Office: calamine's spreadsheets and oletools' test files (plain files only), by magic.
    # oletools' *.zip files are small ZipCrypto archives: they seed the decryption path.
    while IFS= read -r -d '' f; do
        if is_ole "$f"; then
            add_seed cfb "$f"
            add_seed ovba "$f"
            add_seed mime_walk "$f"
            case "$f" in *.ppt | *.pps | *.pot) add_seed ppt "$f" ;; esac
        elif is_zip "$f"; then
            add_seed zip "$f"
        fi
    done < <(find "$CORPUS_ROOT/office/calamine" "$CORPUS_ROOT/office/oletools" -type f -size -2M -print0 2>/dev/null)
    # The Emotet sample archive (3.7 MB, 50 encrypted members) only on request, and only as it is,
    # still encrypted: it is never unpacked to disk. It is a poor seed: every run over it takes
    # about 0.3 s, and the fuzzer fills the corpus with mutated copies of it.
    if [ "${SEED_SAMPLE_ARCHIVE:-0}" = 1 ]; then
        add_seed zip "$CORPUS_ROOT/office/emotet-droppers-2019-06.zip"
    fi

    # The new carriers' own fixtures (real files; see each testdata README).
    local fixtures="$here/../crates/kensa-formats/testdata"
    for f in "$fixtures"/iso/*.iso; do add_seed iso "$f"; done
    for f in "$fixtures"/onenote/*.one; do add_seed onenote "$f"; done
    for f in "$fixtures"/html/*; do add_seed html "$f"; done
    for f in "$fixtures"/msg/*.msg; do add_seed msg "$f"; done
    for f in "$CORPUS_ROOT"/office/oletools/encrypted/*; do add_seed decrypt "$f"; done
    for f in "$fixtures"/lnk/*.lnk; do add_seed pad "$f"; done
    local net="$here/../crates/kensa-net/testdata"
    for f in "$CORPUS_ROOT"/net/*.pcap; do add_seed capture "$f"; done
    for f in "$net"/zeek/*; do add_seed zeek "$f"; done
    for f in "$net"/proto/*.der; do add_seed netproto "$f"; done
    for f in "$CORPUS_ROOT"/intel/*.csv "$net"/intel/*.txt; do add_seed intel "$f"; done
    for f in "$net"/maillog/*.log; do add_seed maillog "$f"; done

    # Host artefacts: the regipy hives (xz, unpacked here), the Windows 10 task files, kensa's own
    # .reg, listing and EmoCheck fixtures.
    local h
    mkdir -p "$here/artifacts/seeds"
    for h in "$CORPUS_ROOT"/host/regipy/*.xz; do
        local out="$here/artifacts/seeds/$(basename "$h" .xz)"
        [ -f "$out" ] || xz -dc "$h" >"$out" 2>/dev/null || continue
        # The 12 MB SYSTEM hive is too big a seed: the small ones only.
        [ "$(stat -c %s "$out")" -le 4194304 ] && add_seed hive "$out"
    done
    find "$CORPUS_ROOT/host/tasks-win10" -type f | sort | head -n 40 | while read -r f; do add_seed task "$f"; done
    for f in "$here"/../crates/kensa-host/testdata/regexport/*.reg; do add_seed regexport "$f"; done
    for f in "$here"/../crates/kensa-host/testdata/listing/*.csv; do add_seed proclist "$f"; done
    for f in "$here"/../crates/kensa-host/testdata/emocheck/*.bootsector; do add_seed emocheck "$f"; done

    # The VBA project (vbaProject.bin, an OLE file) of the benign macro-enabled OOXML test files,
    # for cfb and ovba. Only calamine's and oletools' own files, never the Emotet archive.
    if command -v unzip >/dev/null; then
        while IFS= read -r -d '' f; do
            local member out
            member="$(unzip -Z1 "$f" 2>/dev/null | grep -i 'vbaProject\.bin$' | head -n 1 || true)"
            [ -n "$member" ] || continue
            out="corpus/cfb/vbaproject-$(basename "$f" | tr ' ' '_').bin"
            [ -f "$out" ] || unzip -p "$f" "$member" >"$out" 2>/dev/null || rm -f "$out"
            [ -s "$out" ] && cp -n "$out" corpus/ovba/ 2>/dev/null || true
        done < <(find "$CORPUS_ROOT/office/calamine" "$CORPUS_ROOT/office/oletools" -type f \
            \( -iname '*.xlsm' -o -iname '*.docm' -o -iname '*.pptm' -o -iname '*.dotm' \
            -o -iname '*.xltm' -o -iname '*.potm' -o -iname '*.ppsm' -o -iname '*.xlam' \) \
            -not -path '*/encrypted/*' -print0 2>/dev/null)
    fi
}

# ------------------------------------------------------------------------------------------------
# Running

max_len_for() {
    case "$1" in
    zip) if [ "${SEED_SAMPLE_ARCHIVE:-0}" = 1 ]; then echo 4194304; else echo 1048576; fi ;;
    cfb | ovba | ppt | mime_walk | iso | msg | onenote | decrypt | capture | zeek) echo 1048576 ;;
    *) echo 262144 ;;
    esac
}

dict_for() {
    case "$1" in
    mime_walk | mime_rfc822_alphabet) echo dicts/mime.dict ;;
    zip) echo dicts/zip.dict ;;
    cfb | ovba | ppt) echo dicts/ole.dict ;;
    vba_scan) echo dicts/vba.dict ;;
    password) echo dicts/password.dict ;;
    xlm) echo dicts/xlm.dict ;;
    lnk) echo dicts/lnk.dict ;;
    rtf) echo dicts/rtf.dict ;;
    dde) echo dicts/dde.dict ;;
    html | script) echo dicts/html.dict ;;
    msg | decrypt) echo dicts/ole.dict ;;
    iso) echo dicts/iso.dict ;;
    onenote) echo dicts/onenote.dict ;;
    pad) echo dicts/zip.dict ;;
    capture | netproto) echo dicts/net.dict ;;
    zeek | intel | beacon | maillog) echo dicts/feeds.dict ;;
    hive | regexport | task | proclist | emocheck) echo dicts/host.dict ;;
    milter) echo dicts/milter.dict ;;
    esac
}

if [ "${1:-}" = "--seed-only" ]; then
    seed_corpora
    exit 0
fi

secs="${1:-60}"
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz from crates.io" >&2
    cargo install cargo-fuzz --locked
fi

seed_corpora
mkdir -p artifacts/logs
# One build for every target: release with the debug assertions and overflow checks that
# fuzz/Cargo.toml's profile asks for (`-O` keeps cargo-fuzz from forcing them on for every crate),
# AddressSanitizer.
cargo fuzz build -O

summary=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "regressions/$t" "artifacts/$t"
    log="artifacts/logs/$t.log"
    args=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len_for "$t")"
        -dict="$(dict_for "$t")" -print_final_stats=1)
    if [ "${KEEP_GOING:-0}" = 1 ]; then
        args+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
    fi
    # shellcheck disable=SC2206
    args+=(${FUZZ_ARGS:-})
    before="$(find "artifacts/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"
    echo "== $t: ${secs}s" >&2
    start=$(date +%s)
    status=0
    cargo fuzz run -O "$t" "corpus/$t" "regressions/$t" -- "${args[@]}" >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))
    after="$(find "artifacts/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)"
    runs="$(grep -oE '^Done [0-9]+ runs' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)"
    # Fork mode prints no "Done": its last "#N: cov: …" line has the total.
    [ -n "$runs" ] || runs="$(grep -oE '^#[0-9]+: cov' "$log" | tail -n 1 | grep -oE '[0-9]+' || true)"
    found=$((after - before))
    if [ "$status" -ne 0 ] || [ "$found" -gt 0 ]; then
        failed=1
    fi
    summary+=("$(printf '%-22s %8ss %14s runs %4s new artifacts  exit %s' "$t" "$elapsed" "${runs:-?}" "$found" "$status")")
    tail -n 3 "$log" >&2
done

echo
echo "target                  seconds           runs"
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "crash, timeout or OOM inputs are in fuzz/artifacts/<target>/: minimise them with" >&2
    echo "  RUSTC_BOOTSTRAP=1 cargo fuzz tmin <target> <file>, then keep them in fuzz/regressions/<target>/" >&2
fi
exit "$failed"
