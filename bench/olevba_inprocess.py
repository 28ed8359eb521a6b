#!/usr/bin/env python3
"""In-process oletools throughput: the anchor quoted in mail-and-attachments.md section 6.

Every input is read into memory first and is not timed: ZIP members are decrypted with
zipfile + pwd in memory and never written to disk; a directory is walked and its files read.
Then, per file, this is timed:

  --tool olevba   VBA_Parser(filename=name, data=bytes) + analyze_macros()  (full olevba analysis:
                  extraction, VBA_Scanner keywords/IOCs/encoded strings, form strings, XLM, stomping)
  --tool mraptor  VBA_Parser(filename=name, data=bytes) + detect_vba_macros()
                  + get_vba_code_all_modules() + MacroRaptor(code).scan()   (what the mraptor CLI
                  does per file, minus printing)

The result is one JSON object on standard output (files, bytes, seconds, files/s, MB/s with
MB = 10^6 bytes, per-phase seconds); a short human line goes to standard error.
Python interpreter start-up, imports and reading the inputs are not in `seconds`.
"""

import argparse
import fnmatch
import json
import os
import sys
import time
import zipfile
from importlib import metadata

from oletools import olevba
from oletools.mraptor import MacroRaptor


def load_zip(path, password, pattern):
    """(name, bytes) of the members matching pattern, decrypted in memory."""
    items = []
    pwd = password.encode() if password is not None else None
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.is_dir() or not fnmatch.fnmatchcase(info.filename, pattern):
                continue
            items.append((info.filename, zf.read(info, pwd=pwd)))
    return items


def load_dir(path):
    """(path, bytes) of every regular file under path, in a stable order."""
    items = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if os.path.isfile(full):
                with open(full, "rb") as fh:
                    items.append((full, fh.read()))
    return items


def run_olevba(items, phases, counts):
    for name, data in items:
        t0 = time.perf_counter()
        try:
            parser = olevba.VBA_Parser(filename=name, data=data)
        except Exception:  # not an Office file olevba supports (empty, RTF, ...)
            phases["open"] += time.perf_counter() - t0
            counts["open_errors"] += 1
            continue
        t1 = time.perf_counter()
        try:
            results = parser.analyze_macros()
            if parser.detect_macros():
                counts["with_macros"] += 1
            if results:
                counts["with_findings"] += 1
        except Exception:
            counts["analysis_errors"] += 1
        finally:
            parser.close()
        t2 = time.perf_counter()
        phases["open"] += t1 - t0
        phases["analyze"] += t2 - t1


def run_mraptor(items, phases, counts):
    for name, data in items:
        t0 = time.perf_counter()
        try:
            parser = olevba.VBA_Parser(filename=name, data=data)
        except Exception:
            phases["open"] += time.perf_counter() - t0
            counts["open_errors"] += 1
            continue
        t1 = time.perf_counter()
        try:
            if not parser.detect_vba_macros():
                phases["extract"] += time.perf_counter() - t1
                continue
            code = parser.get_vba_code_all_modules()
            t2 = time.perf_counter()
            raptor = MacroRaptor(code)
            raptor.scan()
            t3 = time.perf_counter()
            counts["with_macros"] += 1
            if raptor.suspicious:
                counts["suspicious"] += 1
            phases["extract"] += t2 - t1
            phases["scan"] += t3 - t2
        except Exception:
            counts["analysis_errors"] += 1
            phases["extract"] += time.perf_counter() - t1
        finally:
            parser.close()
        phases["open"] += t1 - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", choices=("olevba", "mraptor"), required=True)
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--zip", help="password ZIP whose members are read in memory")
    src.add_argument("--dir", help="directory whose files are read")
    ap.add_argument("--password", default="infected", help="ZIP password (default: infected)")
    ap.add_argument("--member-glob", default="*",
                    help="fnmatch pattern of the ZIP members to take, as olevba -f (default: *)")
    ap.add_argument("--input-name", default=None, help="label for the JSON output")
    args = ap.parse_args()

    t_load = time.perf_counter()
    if args.zip:
        items = load_zip(args.zip, args.password, args.member_glob)
    else:
        items = load_dir(args.dir)
    load_s = time.perf_counter() - t_load
    if not items:
        sys.exit("olevba_inprocess: no input files")

    phases = {"open": 0.0, "analyze": 0.0} if args.tool == "olevba" else \
        {"open": 0.0, "extract": 0.0, "scan": 0.0}
    counts = {"with_macros": 0, "with_findings": 0, "suspicious": 0,
              "open_errors": 0, "analysis_errors": 0}
    run = run_olevba if args.tool == "olevba" else run_mraptor

    t0 = time.perf_counter()
    run(items, phases, counts)
    seconds = time.perf_counter() - t0

    nbytes = sum(len(d) for _, d in items)
    out = {
        "tool": args.tool + "-inprocess",
        "input": args.input_name or (args.zip or args.dir),
        "files": len(items),
        "bytes": nbytes,
        "seconds": round(seconds, 6),
        "files_per_s": round(len(items) / seconds, 3),
        "mb_per_s": round(nbytes / 1e6 / seconds, 3),
        "phases_s": {k: round(v, 6) for k, v in phases.items()},
        "load_s": round(load_s, 6),
        **counts,
        "python": sys.version.split()[0],
        "oletools": metadata.version("oletools"),
    }
    print(json.dumps(out))
    print(f"{out['tool']} {out['input']}: {len(items)} files, {nbytes / 1e6:.2f} MB in "
          f"{seconds:.3f} s = {out['files_per_s']:.1f} files/s, {out['mb_per_s']:.2f} MB/s "
          f"(phases {out['phases_s']}, inputs loaded in {load_s:.2f} s, not timed)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
