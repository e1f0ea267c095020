#!/usr/bin/env bash
# Provisions what the tests need (Postgres, Chromium, docker-compose), builds, runs every test
# project and ends with the plain tally: "tests: N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")"
source scripts/provision.sh
set +e

ensure_chromium
ensure_docker_compose
start_postgres

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
results="$PWD/.data/test-results"
rm -rf "$results"; mkdir -p "$results"

dotnet build Orleans.sln -c Debug -nologo -v q 2>&1 | tail -n 30
build_rc=${PIPESTATUS[0]}
if [ "$build_rc" != 0 ]; then
  echo "build failed"
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
fi

dotnet test --solution Orleans.sln --no-build --results-directory "$results" --report-xunit-trx "$@" 2>&1 | tee "$results/console.log"
test_rc=${PIPESTATUS[0]}

# The TRX per-test outcomes are the truth (the Counters element under-reports skips).
count_outcome() {
  # grep -h prints nothing for zero files; wc -l then counts 0.
  find "$results" -name '*.trx' -print0 | xargs -0 -r grep -ho "<UnitTestResult [^>]*outcome=\"[A-Za-z]*\"" \
    | grep -oE "outcome=\"($1)\"" | wc -l
}
passed=$(count_outcome 'Passed')
failed=$(count_outcome 'Failed|Error|Timeout|Aborted')
skipped=$(count_outcome 'NotExecuted|Inconclusive|Pending|Disconnected|Warning|Completed|InProgress|NotRunnable')
passed=${passed:-0}; failed=${failed:-0}; skipped=${skipped:-0}
# Two test assemblies that start in the same instant get the same TRX file name and one overwrites
# the other: when the runner's own summary counts more, it is the truth.
summary() { grep -E "^ +$1: [0-9]+$" "$results/console.log" | tail -n 1 | grep -oE "[0-9]+$"; }
s_total=$(summary total); s_failed=$(summary failed); s_passed=$(summary succeeded); s_skipped=$(summary skipped)
if [ -n "$s_total" ] && [ "$s_total" -gt $((passed + failed + skipped)) ]; then
  passed=${s_passed:-0}; failed=${s_failed:-0}; skipped=${s_skipped:-0}
fi
# Name each failed test and its message right above the tally, where a truncated CI log still shows it.
# The failure is the <Message> inside <ErrorInfo>; the ones before it are the test's own output lines.
find "$results" -name '*.trx' -print0 | xargs -0 -r perl -0777 -ne '
  while (/<UnitTestResult\b([^>]*?)outcome="(Failed|Error|Timeout|Aborted)"([^>]*)>(.*?)<\/UnitTestResult>/gs) {
    my ($attrs, $body) = ("$1 $3", $4);
    my ($name) = $attrs =~ /testName="([^"]*)"/;
    my ($message) = $body =~ /<ErrorInfo>.*?<Message>(.*?)<\/Message>/s;
    $message //= ""; $message =~ s/&lt;/</g; $message =~ s/&gt;/>/g; $message =~ s/&quot;/"/g; $message =~ s/&#xD;//g; $message =~ s/&#xA;/\n/g; $message =~ s/&amp;/&/g;
    my @lines = split /\n/, $message;
    print "FAILED $name\n", map({ "    $_\n" } grep { defined } @lines[0 .. ($#lines < 11 ? $#lines : 11)]);
  }' | head -n 120
rc=0
if [ "$test_rc" != 0 ] || [ "$failed" != 0 ] || [ "$passed" = 0 ]; then rc=1; fi
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $rc
