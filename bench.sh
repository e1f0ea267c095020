#!/usr/bin/env bash
# Runs the sessions benchmark: POST and GET /v1/patient-sessions at a fixed concurrency, next to a
# durable single-row Npgsql insert and a bare Kestrel endpoint measured in the same run.
#
#   ./bench.sh [--silos N] [-- benchmark options: --concurrency 16 --seconds 10 --warmup 2]
#   ./bench.sh --telemetry [-- --concurrency 16 --seconds 5 --rounds 3]   (telemetry off vs on)
#
# Uses a service already answering on 127.0.0.1:8080; otherwise starts ./run.sh (Release) in the
# background for the run and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")"

silos=1
if [ "${1:-}" = "--telemetry" ]; then
  # Telemetry off / metrics / OTLP side by side on their own stacks and databases (free ports): the
  # overhead of each as a ratio to off. Needs only Postgres; run.sh's stack is not used.
  shift
  [ "${1:-}" = "--" ] && shift
  source scripts/provision.sh
  start_postgres
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  dotnet build Orleans.sln -c Release -nologo -v q 2>&1 | tail -n 3
  exec dotnet tests/Benchmarks/bin/Release/net10.0/Benchmarks.dll telemetry "$@"
fi
if [ "${1:-}" = "--silos" ]; then silos="${2:?--silos needs a number}"; shift 2; fi
[ "${1:-}" = "--" ] && shift

source scripts/provision.sh
start_postgres
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p .data/logs

api=http://127.0.0.1:8080
run_pid=
stop_run() {
  if [ -n "$run_pid" ] && kill -0 "$run_pid" 2>/dev/null; then
    kill -TERM "$run_pid" 2>/dev/null || true
    wait "$run_pid" 2>/dev/null || true
  fi
}
trap stop_run EXIT

if curl -fsS -o /dev/null --max-time 2 "$api/health/ready" 2>/dev/null; then
  echo "[bench] using the service already running on $api"
else
  echo "[bench] starting ./run.sh --silos $silos (log: .data/logs/bench-run.log)"
  ./run.sh --silos "$silos" > .data/logs/bench-run.log 2>&1 &
  run_pid=$!
  ready=0
  for _ in $(seq 1 600); do
    if ! kill -0 "$run_pid" 2>/dev/null; then break; fi
    if curl -fsS -o /dev/null --max-time 2 "$api/health/ready" 2>/dev/null; then ready=1; break; fi
    sleep 1
  done
  if [ "$ready" != 1 ]; then
    echo "[bench] the service did not start; last lines of .data/logs/bench-run.log:" >&2
    tail -n 40 .data/logs/bench-run.log >&2
    exit 1
  fi
fi

# The key run.sh gives the dev tenant: the environment's, else the generated one.
if [ -z "${PATIENTCONNECT_DEV_API_KEY:-}" ]; then
  # shellcheck disable=SC1091
  source .data/dev.env
  export PATIENTCONNECT_DEV_API_KEY="$DEV_API_KEY"
fi
export PATIENTCONNECT_API="$api"

dotnet run --project tests/Benchmarks/Benchmarks.csproj -c Release -- sessions "$@"
