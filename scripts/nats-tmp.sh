#!/bin/sh
# nats-tmp.sh: a throwaway nats-server (JetStream on) for tests and examples.
#
#   scripts/nats-tmp.sh start DIR [PORT]   start nats-server on 127.0.0.1:PORT (default: a free
#                                          port), JetStream store in DIR/js, log DIR/nats.log,
#                                          pid in DIR/nats.pid; waits until it answers (and its
#                                          JetStream API answers), prints nats://127.0.0.1:PORT
#   scripts/nats-tmp.sh stop DIR           stop it and remove DIR
#   scripts/nats-tmp.sh restart DIR [KILL] stop it and start it again on the same port with the
#                                          same store (for fault tests); prints the URL again.
#                                          KILL: SIGKILL instead of a shutdown (SIGTERM)
#
# NATS_SERVER overrides the binary (default: nats-server on PATH, else /usr/sbin/nats-server,
# where Debian puts it). NATS_TMP_JS=0 starts the server without JetStream (to test the core
# NATS fallback). Exit status 77 when nats-server is not installed, so callers can skip.
set -eu

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR | restart DIR [KILL]" >&2
    exit 2
}

find_server() {
    if [ -n "${NATS_SERVER:-}" ]; then
        echo "$NATS_SERVER"
    elif command -v nats-server >/dev/null 2>&1; then
        command -v nats-server
    elif [ -x /usr/sbin/nats-server ]; then
        echo /usr/sbin/nats-server
    else
        echo "$0: nats-server not found (install nats-server)" >&2
        exit 77
    fi
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Succeeds once the server on port $1 answers a PING and, with JetStream, its $JS.API.INFO.
probe() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import socket, sys
port, js = int(sys.argv[1]), sys.argv[2] == "1"
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    f = s.makefile("rb")
    if not f.readline().startswith(b"INFO "):
        sys.exit(1)
    out = b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\n'
    if js:
        out += b"SUB _INBOX.probe 1\r\nPUB $JS.API.INFO _INBOX.probe 0\r\n\r\n"
    s.sendall(out + b"PING\r\n")
    while True:
        line = f.readline()
        if not line:
            sys.exit(1)
        if line.startswith(b"PONG") and not js:
            sys.exit(0)
        if line.startswith(b"MSG ") or line.startswith(b"HMSG "):
            # A reply with a payload is an account info; a bare status (no responders) is not.
            n = int(line.split()[-1])
            body = f.read(n + 2)
            sys.exit(0 if b'"memory"' in body else 1)
        if line.startswith(b"-ERR"):
            sys.exit(1)
except OSError:
    sys.exit(1)
EOF
}

is_running() {
    [ -f "$1/nats.pid" ] && kill -0 "$(cat "$1/nats.pid")" 2>/dev/null
}

launch() {
    dir=$1
    port=$2
    server=$(find_server)
    js=${NATS_TMP_JS:-1}
    set -- -a 127.0.0.1 -p "$port" -l "$dir/nats.log" -P "$dir/nats.pid"
    if [ "$js" = 1 ]; then
        set -- "$@" -js -sd "$dir/js"
    fi
    echo "$port" >"$dir/port"
    echo "$js" >"$dir/jetstream"
    # Detached from our stdout: callers read the URL through a pipe that must close.
    "$server" "$@" </dev/null >>"$dir/nats.log" 2>&1 &
    pid=$!
    i=0
    until probe "$port" "$js"; do
        i=$((i + 1))
        if ! kill -0 "$pid" 2>/dev/null || [ $i -ge 100 ]; then
            echo "$0: nats-server did not become ready on port $port" >&2
            tail -n 20 "$dir/nats.log" >&2 || true
            kill "$pid" 2>/dev/null || true
            exit 1
        fi
        sleep 0.1
    done
    echo "nats://127.0.0.1:$port"
}

# Stops the server of DIR, waiting until the process is gone. SIGTERM: it shuts down at once,
# closing every client connection, and syncs its store; SIGKILL ($2 = KILL): it just dies
# (what it stored is in the OS' page cache: JetStream writes before it acknowledges).
halt() {
    dir=$1
    is_running "$dir" || return 0
    pid=$(cat "$dir/nats.pid")
    kill -s "${2:-TERM}" "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -ge 100 ]; then
            kill -9 "$pid" 2>/dev/null || true
        fi
        sleep 0.1
    done
    rm -f "$dir/nats.pid"
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2

case "$cmd" in
start)
    find_server >/dev/null
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if is_running "$dir"; then
        echo "$0: a server already runs for $dir" >&2
        exit 1
    fi
    launch "$dir" "${3:-$(free_port)}"
    ;;
restart)
    [ -f "$dir/port" ] || { echo "$0: no server was started in $dir" >&2; exit 1; }
    dir=$(cd "$dir" && pwd)
    case "${3:-TERM}" in
    TERM | KILL) halt "$dir" "${3:-TERM}" ;;
    *) usage ;;
    esac
    if [ "$(cat "$dir/jetstream")" = 0 ]; then
        NATS_TMP_JS=0
    fi
    launch "$dir" "$(cat "$dir/port")"
    ;;
stop)
    if [ -d "$dir" ]; then
        halt "$dir"
        rm -rf "$dir"
    fi
    ;;
*)
    usage
    ;;
esac
