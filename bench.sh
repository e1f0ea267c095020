#!/usr/bin/env bash
# Runs the sessions benchmark (issue 13): creates, GETs of a session and a connection and a patient's
# list at concurrency 16 and 64, each next to its floor measured in the same run (a durable single-row
# Npgsql insert; bare Kestrel answering the same JSON), then cost growth (1,000 vs 1,000,000 stored
# sessions, a patient with 10,000 past sessions, WAL bytes per create) and, with --silos N, the work
# each silo did.
#
#   ./bench.sh [--silos N] [-- benchmark options: --concurrency 16,64 --seconds 10 --warmup 2 --stored 1000000 --history 10000]
#   ./bench.sh --telemetry [-- --concurrency 16 --seconds 5 --rounds 3]   (telemetry off vs on)
#
# The benchmark starts a stack of its own from the Release build (sandbox, N silos, Api) on free
# loopback ports and a fresh database in the private Postgres, and drops it afterwards: a ./run.sh,
# tests or another benchmark on this machine are never in its way. To measure an already running
# service instead (throughput only): -- --api http://127.0.0.1:8080 --key pc_dev_…
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

echo "[bench] building (Release)"
for project in SandboxEhr/SandboxEhr.csproj Silo/Silo.csproj Api/Api.csproj tests/Benchmarks/Benchmarks.csproj; do
  dotnet build "$project" -c Release -nologo -v q -clp:ErrorsOnly
done

# PATIENTCONNECT_PG (from provision.sh) may create databases: the benchmark makes one and drops it.
dotnet tests/Benchmarks/bin/Release/net10.0/Benchmarks.dll sessions --silos "$silos" --pg "$PATIENTCONNECT_PG" "$@"
