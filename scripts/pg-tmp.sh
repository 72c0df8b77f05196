#!/bin/sh
# pg-tmp.sh: a throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
#   scripts/pg-tmp.sh start DIR [PORT]   create a cluster in DIR, start it on 127.0.0.1:PORT
#                                        (default: a free port), print its URI on stdout
#   scripts/pg-tmp.sh stop DIR           stop it and remove DIR
#
# Uses Debian's /usr/lib/postgresql/15/bin (package postgresql), never a system cluster. The
# server refuses to run as root, so when we are root it runs as `postgres` (DIR is given to it).
# Trust authentication, loopback TCP and a unix socket in DIR only.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
}

as_pg() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2

case "$cmd" in
start)
    port=${3:-$(free_port)}
    [ -x "$PGBIN/initdb" ] || { echo "$0: $PGBIN/initdb not found (install postgresql)" >&2; exit 1; }
    if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "$0: $dir exists and is not empty" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" = 0 ]; then
        chown postgres:postgres "$dir"
    fi
    chmod 700 "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    # pg_ctl -w waits for the server; check it really answers on the port we print.
    i=0
    until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; do
        i=$((i + 1))
        if [ $i -ge 60 ]; then
            echo "$0: server did not become ready" >&2
            cat "$dir/server.log" >&2
            exit 1
        fi
        sleep 0.5
    done
    echo "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    if [ -d "$dir/data" ]; then
        as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    usage
    ;;
esac
