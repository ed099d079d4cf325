#!/usr/bin/env bash
# A throwaway PostgreSQL cluster (Debian's postgresql package) for the tests and the
# benchmark, on a loopback port, in a directory of its own:
#
#   scripts/pg.sh start DIR PORT   initialises DIR if empty, starts the server, prints its URL
#   scripts/pg.sh stop DIR         stops it (fast shutdown)
#
# PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user.
# Trust authentication on 127.0.0.1 only; fsync stays on (an acknowledgement means durable).
set -euo pipefail
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
if [[ -z "$bin" ]]; then
  echo "PostgreSQL is not installed (scripts/install-tools.sh installs Debian's postgresql)" >&2
  exit 1
fi
as_pg() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    dir="$2" port="$3"
    mkdir -p "$dir"
    if [[ "$(id -u)" == 0 ]]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      as_pg "$bin/initdb" -D "$dir" -U fieldbook --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=400 -c shared_buffers=256MB" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://fieldbook@127.0.0.1:$port/postgres"
    ;;
  stop)
    as_pg "$bin/pg_ctl" -D "$2" -m fast -w stop >/dev/null
    ;;
  *)
    echo "usage: scripts/pg.sh start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
