#!/usr/bin/env bash
# The pipeline benchmark harness: end-to-end throughput of `earshot run` in
# embedded mode (every stage, in-memory queues, synthetic firehose, no alert
# printing), repeated to show the spread. Usage: bench/run.sh [runs] [duration]
# Prints one JSON summary per run and the median posts/s.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
duration=${2:-20s}
go build -o bin/earshot ./cmd/earshot
mkdir -p bench/out
rates=()
for i in $(seq 1 "$runs"); do
    line=$(./bin/earshot run --config deploy/examples/embedded.yaml --rate 0 --duration "$duration" --quiet --progress 0 --metrics-addr 127.0.0.1:0 2>/dev/null | tail -n 1)
    echo "$line" | tee -a bench/out/embedded.jsonl
    rates+=("$(echo "$line" | python3 -c 'import json,sys; print(int(json.load(sys.stdin)["posts_per_sec"]))')")
done
median=$(printf '%s\n' "${rates[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "embedded posts/s over $runs runs of $duration: ${rates[*]} (median $median)"
