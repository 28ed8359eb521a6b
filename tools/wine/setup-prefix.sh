#!/bin/sh
# Creates (or refreshes) a Wine prefix that can run kensa's Windows binaries: Wine 8.0 lacks
# bcryptprimitives.dll, which every Rust std program imports (ProcessPrng), so this builds the shim
# in this folder and copies it into the prefix's system32. Idempotent: an existing prefix is
# reused and the shim is rebuilt only when its source changed. Prints the prefix path.
#
# Usage: tools/wine/setup-prefix.sh PREFIX_DIR
# Needs: wine, wine64, gcc-mingw-w64-x86-64 (see README.md).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 PREFIX_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
WINEPREFIX=$(cd "$1" && pwd)
# No debug chatter; no Mono/Gecko download prompts (nothing here needs .NET or a browser engine).
WINEDEBUG=-all
WINEDLLOVERRIDES="mscoree,mshtml="
export WINEPREFIX WINEDEBUG WINEDLLOVERRIDES

# 1. The shim, built next to the prefix (never inside the source tree).
build="$WINEPREFIX/.kensa-shim"
dll="$build/bcryptprimitives.dll"
mkdir -p "$build"
if [ ! -f "$dll" ] || [ "$here/bcryptprimitives.c" -nt "$dll" ] || [ "$here/bcryptprimitives.def" -nt "$dll" ]; then
    x86_64-w64-mingw32-gcc -shared -O2 -s -Wall -Wextra -o "$dll" \
        "$here/bcryptprimitives.c" "$here/bcryptprimitives.def" -ladvapi32
fi

# 2. The prefix (64-bit; first creation takes 8-10 s).
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    wine wineboot -i >/dev/null 2>&1 || true
fi
wineserver -w
if [ ! -d "$WINEPREFIX/drive_c/windows/system32" ]; then
    echo "setup-prefix: wineboot did not create $WINEPREFIX/drive_c/windows/system32" >&2
    exit 1
fi

# 3. The shim into system32 (refreshed when it differs).
target="$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
if ! cmp -s "$dll" "$target"; then
    cp "$dll" "$target"
fi
wineserver -w
echo "$WINEPREFIX"
