#!/usr/bin/env python3
"""Fail when a dependency's licence does not fit kensa's MIT OR Apache-2.0.

Reads `cargo metadata` (every package in the resolved graph, all targets and features). A package
passes when its SPDX expression offers at least one permissive choice: each OR-branch is checked
and a branch passes when all its AND-parts are on the allow list. MPL-2.0 is allowed as a
dependency (file-level copyleft; onenote_parser, spec toolchain.md).
"""
import json
import re
import subprocess
import sys

ALLOWED = {
    "MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "BSD-2-Clause", "BSD-3-Clause", "ISC",
    "Zlib", "Unicode-3.0", "Unicode-DFS-2016", "0BSD", "CC0-1.0", "Unlicense", "BSL-1.0",
    "MPL-2.0", "CDLA-Permissive-2.0", "MIT-0",
}


def ok(expr: str) -> bool:
    """Evaluate an SPDX expression: a licence id is true when allowed; OR is any, AND is all."""
    expr = expr.replace("/", " OR ")
    tokens = re.findall(r"\(|\)|[A-Za-z0-9.+-]+(?:\s+WITH\s+[A-Za-z0-9.+-]+)?", expr)
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom():
        t = take()
        if t == "(":
            v = disjunction()
            take()  # ")"
            return v
        return t in ALLOWED

    def conjunction():
        v = atom()
        while peek() == "AND":
            take()
            v = atom() and v
        return v

    def disjunction():
        v = conjunction()
        while peek() == "OR":
            take()
            v = conjunction() or v
        return v

    try:
        return disjunction() and pos == len(tokens)
    except IndexError:
        return False


def main() -> int:
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked"], text=True))
    bad = []
    for pkg in meta["packages"]:
        if pkg.get("source") is None:  # our own crates
            continue
        lic = pkg.get("license")
        if not lic:
            bad.append(f"{pkg['name']} {pkg['version']}: no SPDX licence in its metadata")
        elif not ok(lic):
            bad.append(f"{pkg['name']} {pkg['version']}: {lic}")
    if bad:
        print("licences that do not fit MIT OR Apache-2.0:")
        print("\n".join(bad))
        return 1
    print(f"{len(meta['packages'])} packages: licences fit")
    return 0


if __name__ == "__main__":
    sys.exit(main())
