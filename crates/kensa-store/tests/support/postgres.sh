#!/bin/bash
# A throwaway PostgreSQL cluster for kensa-store's tests and benchmark.
#
#   postgres.sh start DIR [WATCH_PID]   create a cluster in DIR (an empty or missing directory),
#                                       start it on 127.0.0.1 on a free port, create database
#                                       kensa_test, print its URL on stdout. With WATCH_PID, a
#                                       detached watchdog stops the cluster once that process
#                                       has exited (so a killed test binary leaks no server).
#   postgres.sh stop DIR                stop the cluster and remove DIR (idempotent).
#
# Needs Debian's server binaries (/usr/lib/postgresql/*/bin), i.e. the `postgresql` package:
#   DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
# As root (CI), the cluster runs as the `postgres` user (runuser) and DIR is chowned to it;
# as any other user, it runs as that user. Authentication: trust, TCP on 127.0.0.1 only (no
# unix-socket or other host lines in pg_hba.conf); the socket goes to DIR.
set -euo pipefail

usage() { echo "usage: $0 start DIR [WATCH_PID] | stop DIR" >&2; exit 2; }
[ $# -ge 2 ] || usage
cmd=$1
dir=$2
self=$(readlink -f "$0")

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
    echo "postgres.sh: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin;" \
         "install Debian's postgresql package:" \
         "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql" >&2
    exit 1
fi

if [ "$(id -u)" = 0 ]; then
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

start() {
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$dir"
    fi
    if ! as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        exit 1
    fi
    echo "host all all 127.0.0.1/32 trust" >"$dir/data/pg_hba.conf"
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$dir/data/pg_hba.conf"
    fi

    local port="" attempt
    for attempt in $(seq 1 20); do
        local try=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        # Something already answers there: pick another.
        if (exec 3<>"/dev/tcp/127.0.0.1/$try") 2>/dev/null; then
            continue
        fi
        if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $try -k $dir" start >/dev/null 2>&1; then
            port=$try
            break
        fi
        # Lost a race for the port: retry; any other failure is final.
        if ! grep -q "could not bind\|Address already in use" "$dir/server.log" 2>/dev/null; then
            cat "$dir/server.log" >&2 2>/dev/null || true
            echo "postgres.sh: pg_ctl start failed (attempt $attempt)" >&2
            exit 1
        fi
    done
    if [ -z "$port" ]; then
        echo "postgres.sh: no free port found" >&2
        exit 1
    fi
    echo "$port" >"$dir/port"

    if [ $# -ge 1 ] && [ -n "$1" ]; then
        setsid "$self" watch "$dir" "$1" </dev/null >/dev/null 2>&1 &
    fi

    as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres kensa_test
    echo "postgres://postgres@127.0.0.1:$port/kensa_test"
}

stop() {
    [ -d "$dir" ] || return 0
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
            as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    # Only what start created.
    rm -rf "$dir/data"
    rm -f "$dir/initdb.log" "$dir/server.log" "$dir/port"
    rmdir "$dir" 2>/dev/null || true
}

watch() {
    local pid=$1
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
    done
    stop
}

case $cmd in
    start) shift 2; start "${1:-}" ;;
    stop) stop ;;
    watch) watch "$3" ;;
    *) usage ;;
esac
