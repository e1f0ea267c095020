#!/usr/bin/env bash
# Chaos run: three silos, the sandbox and the Api on free 127.0.0.1 ports against a Postgres of its
# own (never the one run.sh or test.sh use: one scenario stops it), connect flows under load while
# silos are killed or restarted and Postgres is stopped; prints a table per scenario.
#   ./chaos.sh                                  # all scenarios, 1000 flows, concurrency 30
#   ./chaos.sh --scenarios kill --flows 300     # one scenario
# Scenarios: kill, rolling, postgres, webhooks-sync. Logs of every process: .data/chaos/logs/.
set -uo pipefail
cd "$(dirname "$0")"
export PATIENTCONNECT_DATA_DIR="$PWD/.data/chaos"
export PATIENTCONNECT_PG_PORT="${CHAOS_PG_PORT:-55439}"
source scripts/provision.sh
set +e
start_postgres

bin="$(pg_bin)"
pgdata="$PATIENTCONNECT_DATA_DIR/pg"
export CHAOS_PG_STOP="runuser -u postgres -- '$bin/pg_ctl' -D '$pgdata' -m fast -w stop >/dev/null"
export CHAOS_PG_START="runuser -u postgres -- '$bin/pg_ctl' -D '$pgdata' -l '$PATIENTCONNECT_DATA_DIR/pg-log/postgres.log' -w start >/dev/null"
export CHAOS_LOG_DIR="$PATIENTCONNECT_DATA_DIR/logs"
rm -rf "$CHAOS_LOG_DIR"; mkdir -p "$CHAOS_LOG_DIR"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ "${1:-}" != "--no-build" ]; then
  dotnet build Orleans.sln -c Release -nologo -v q 2>&1 | tail -n 5 || exit 1
else
  shift
fi
dotnet tests/Benchmarks/bin/Release/net10.0/Benchmarks.dll chaos "$@"
rc=$?
# The chaos Postgres is stopped again: it exists for this run only.
source scripts/provision.sh && stop_postgres >/dev/null 2>&1
exit $rc
