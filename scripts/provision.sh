#!/usr/bin/env bash
# Sourced by run.sh and test.sh: installs what is missing and starts a private Postgres under
# .data/, then exports PATIENTCONNECT_PG (an Npgsql connection string to an admin-capable role).
# Idempotent: a running server is reused.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# A second stack (./chaos.sh) keeps its own Postgres: PATIENTCONNECT_DATA_DIR and PATIENTCONNECT_PG_PORT.
DATA="${PATIENTCONNECT_DATA_DIR:-$ROOT/.data}"
PG_PORT="${PATIENTCONNECT_PG_PORT:-55432}"
PG_USER=patientconnect
PG_PASSWORD=patientconnect
PG_DB=patientconnect

log() { echo "[provision] $*" >&2; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

ensure_postgres_binaries() {
  if [ -z "$(pg_bin)" ] || [ ! -x "$(pg_bin)/initdb" ]; then
    apt_install postgresql
  fi
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
}

ensure_chromium() {
  # Browser tests use Debian's Chromium: Playwright's own browser download cannot work here.
  [ -x /usr/bin/chromium ] || apt_install chromium
}

ensure_docker_compose() {
  command -v docker-compose >/dev/null 2>&1 || apt_install docker-compose
}

start_postgres() {
  ensure_postgres_binaries
  local bin; bin="$(pg_bin)"
  local pgdata="$DATA/pg" sock="$DATA/pg-run" logdir="$DATA/pg-log"
  mkdir -p "$DATA"
  chmod 755 "$DATA"
  # Postgres refuses to run as root: its folders belong to the postgres user.
  install -d -o postgres -g postgres -m 700 "$pgdata"
  install -d -o postgres -g postgres -m 755 "$sock" "$logdir"
  if [ ! -f "$pgdata/PG_VERSION" ]; then
    log "initdb $pgdata"
    runuser -u postgres -- "$bin/initdb" -D "$pgdata" -U postgres --auth=trust -E UTF8 >/dev/null
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "port = $PG_PORT"
      echo "unix_socket_directories = '$sock'"
      echo "max_connections = 300"
      echo "shared_buffers = 256MB"
      echo "fsync = on"
    } >> "$pgdata/postgresql.conf"
  fi
  if ! runuser -u postgres -- "$bin/pg_ctl" -D "$pgdata" status >/dev/null 2>&1; then
    log "starting postgres on 127.0.0.1:$PG_PORT"
    # -l keeps the server off our stdout: without it a captured script hangs forever.
    runuser -u postgres -- "$bin/pg_ctl" -D "$pgdata" -l "$logdir/postgres.log" -w -t 60 start >/dev/null
  fi
  local psql=("$bin/psql" -h "$sock" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$(runuser -u postgres -- "${psql[@]}" -c "select 1 from pg_roles where rolname='$PG_USER'")" != 1 ]; then
    runuser -u postgres -- "${psql[@]}" -c "create role $PG_USER login createdb password '$PG_PASSWORD'"
  fi
  if [ "$(runuser -u postgres -- "${psql[@]}" -c "select 1 from pg_database where datname='$PG_DB'")" != 1 ]; then
    runuser -u postgres -- "${psql[@]}" -c "create database $PG_DB owner $PG_USER"
  fi
  export PATIENTCONNECT_PG="Host=127.0.0.1;Port=$PG_PORT;Username=$PG_USER;Password=$PG_PASSWORD;Database=$PG_DB"
}

stop_postgres() {
  local bin; bin="$(pg_bin)"
  runuser -u postgres -- "$bin/pg_ctl" -D "$DATA/pg" -m fast -w stop >/dev/null 2>&1 || true
}
