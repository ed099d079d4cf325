# Sourced by scripts/test.sh and scripts/bench.sh: `start_pg_cluster PORT` starts a throwaway
# PostgreSQL cluster (scripts/pg.sh) in a temporary directory on 127.0.0.1:PORT, exports its
# admin URL as FIELDBOOK_TEST_PG_URL, and stops and removes it when the script exits
# (`stop_pg_cluster`, which a script with an exit trap of its own calls from it).
stop_pg_cluster() {
  scripts/pg.sh stop "$pg_dir" 2>/dev/null || true
  rm -rf "$pg_parent"
}
start_pg_cluster() {
  local port="$1"
  pg_parent="$(mktemp -d)"
  chmod 755 "$pg_parent" # the server runs as the postgres user when we are root
  pg_dir="$pg_parent/pg"
  trap stop_pg_cluster EXIT
  FIELDBOOK_TEST_PG_URL="$(scripts/pg.sh start "$pg_dir" "$port")"
  export FIELDBOOK_TEST_PG_URL
}
