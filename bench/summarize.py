#!/usr/bin/env python3
"""Summary table (Markdown) of a bench/runs/<date>-<host>/ folder: medians of raw.csv.

Usage: python3 bench/summarize.py bench/runs/<date>-<host>
"""

import csv
import json
import os
import statistics
import sys
from collections import OrderedDict

TOOLS = ["kensa", "kensa-t1", "olevba-cli", "mraptor-cli", "olevba-inprocess", "mraptor-inprocess"]
LABEL = {
    "kensa": "kensa scan (all cores)",
    "kensa-t1": "kensa scan --threads 1",
    "olevba-cli": "olevba -t (CLI)",
    "mraptor-cli": "mraptor (CLI)",
    "olevba-inprocess": "olevba in-process (VBA_Parser + analyze_macros)",
    "mraptor-inprocess": "mraptor in-process (VBA_Parser + extract + MacroRaptor.scan)",
}
TARGET = 50.0  # spec: kensa >= 50x olevba's throughput


def main():
    out = sys.argv[1]
    rows = list(csv.DictReader(open(os.path.join(out, "raw.csv"))))
    groups = OrderedDict()
    for r in rows:
        groups.setdefault((r["input"], r["tool"]), []).append(r)

    med = {}
    for (inp, tool), rs in groups.items():
        wall = statistics.median(float(r["wall_s"]) for r in rs)
        rss = statistics.median(int(r["peak_rss_kib"]) for r in rs)
        files, nbytes = int(rs[0]["files"]), int(rs[0]["bytes"])
        med[(inp, tool)] = dict(runs=len(rs), files=files, bytes=nbytes, wall=wall,
                                fps=files / wall, mbps=nbytes / 1e6 / wall, rss=rss,
                                spread=(min(float(r["wall_s"]) for r in rs),
                                        max(float(r["wall_s"]) for r in rs)))

    machine = open(os.path.join(out, "machine.txt")).read().splitlines()
    head = {l.split(":", 1)[0]: l.split(":", 1)[1].strip() for l in machine if ":" in l}
    print(f"# kensa vs oletools: {os.path.basename(os.path.normpath(out))}\n")
    print(f"- date: {head.get('date', '?')}; CPU: {head.get('Model name', '?')}, "
          f"{head.get('CPU(s)', '?')} CPUs; {head.get('kensa', '?')} @ "
          f"{head.get('kensa git rev', '?')[:12]}; oletools {head.get('oletools', '?')}, "
          f"{head.get('python3', '?').split(' (')[0]}")
    print(f"- median of {max((m['runs'] for m in med.values()), default=0)} runs; "
          "MB = 10^6 bytes of uncompressed input; wall time of the whole process for kensa and "
          "the CLIs, of the timed loop only for the in-process rows\n")

    inputs = list(OrderedDict.fromkeys(k[0] for k in med))
    for inp in inputs:
        k = med.get((inp, "kensa"))
        print(f"## {inp}\n")
        print("| tool | files | MB | wall s (min–max) | files/s | MB/s | peak RSS MiB "
              "| kensa ÷ tool, files/s | kensa ÷ tool, wall |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for tool in TOOLS:
            m = med.get((inp, tool))
            if not m:
                continue
            r_fps = f"{k['fps'] / m['fps']:.1f}×" if k else "–"
            r_wall = f"{m['wall'] / k['wall']:.1f}×" if k else "–"
            if tool == "kensa":
                r_fps = r_wall = "1×"
            print(f"| {LABEL[tool]} | {m['files']} | {m['bytes'] / 1e6:.2f} | {m['wall']:.3f} "
                  f"({m['spread'][0]:.3f}–{m['spread'][1]:.3f}) | {m['fps']:.1f} | {m['mbps']:.2f} "
                  f"| {m['rss'] / 1024:.1f} | {r_fps} | {r_wall} |")
        print()
        if k:
            for ref in ("olevba-inprocess", "olevba-cli"):
                m = med.get((inp, ref))
                if m:
                    ratio = min(k["fps"] / m["fps"], m["wall"] / k["wall"])
                    verdict = "meets" if ratio >= TARGET else "MISSES"
                    print(f"- kensa vs {ref}: {ratio:.1f}× (the lower of the files/s and wall "
                          f"ratios) — {verdict} the ≥ {TARGET:.0f}× target")
            print()

    path = os.path.join(out, "inprocess.jsonl")
    if os.path.exists(path):
        phases = OrderedDict()
        for line in open(path):
            d = json.loads(line)
            for p, s in d["phases_s"].items():
                phases.setdefault((d["input"], d["tool"], p), []).append(s)
        print("## in-process phases (median seconds over the runs)\n")
        print("| input | tool | phase | s |")
        print("|---|---|---|---:|")
        for (inp, tool, p), v in phases.items():
            print(f"| {inp} | {tool} | {p} | {statistics.median(v):.3f} |")
        print()


if __name__ == "__main__":
    main()
