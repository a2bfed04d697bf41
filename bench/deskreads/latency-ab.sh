#!/usr/bin/env bash
# latency-ab.sh: BenchmarkDeskLatencyClickHouse (the desk's requests through
# the HTTP API on 100,000 stored alerts, p50/p99 per request) of several
# test binaries, run in turn (A B A B …) so that the machine's load falls on
# each alike, with the load average at the start of each run.
#
#   bench/deskreads/latency-ab.sh ROUNDS NAME=BINARY@PKGDIR...
#
# Build the binaries from the two trees first, each run from its own api
# directory, e.g. main's (before) against a branch (after):
#
#   git archive f5973f6 | (mkdir -p /tmp/ab/base && tar -x -C /tmp/ab/base)
#   (cd /tmp/ab/base && go test -c -tags integration -o /tmp/ab/before.test ./api)
#   go test -c -tags integration -o /tmp/ab/after.test ./api
#   bench/deskreads/latency-ab.sh 3 before=/tmp/ab/before.test@/tmp/ab/base/api after=/tmp/ab/after.test@$PWD/api
#
# Each run stores its alerts in a database of its own on the local
# ClickHouse (127.0.0.1:9000) and drops it at the end.
set -u
rounds=$1
shift
for r in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    name=${spec%%=*}
    rest=${spec#*=}
    bin=${rest%%@*}
    dir=${rest#*@}
    echo "=== round $r $name load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
    (cd "$dir" && "$bin" -test.run '^$' -test.bench 'BenchmarkDeskLatencyClickHouse' -test.benchtime 200x -test.count 1 2>&1 | grep -E '^Benchmark|FAIL|panic')
  done
done
echo "=== done load $(cut -d' ' -f1-3 /proc/loadavg) $(date -u +%H:%M:%S)"
