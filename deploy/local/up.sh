#!/usr/bin/env bash
# Start the local stack: Kafka, then ClickHouse, then the ClickHouse cluster
# (deploy/local/chcluster.sh). Idempotent; fails fast.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! "$HERE/kafka.sh" start; then
    echo "[up] ERROR: Kafka failed to start (logs: .local/kafka/logs/); not starting ClickHouse" >&2
    exit 1
fi
if ! "$HERE/clickhouse.sh" start; then
    echo "[up] ERROR: ClickHouse failed to start (logs: .local/clickhouse/logs/); Kafka is left running, stop it with deploy/local/down.sh" >&2
    exit 1
fi
# The cluster for sink.cluster's tests: two shards, the first with two replicas (ZooKeeper + three more servers, ~3 s warm).
if ! "$HERE/chcluster.sh" start; then
    echo "[up] ERROR: the ClickHouse cluster failed to start (logs: .local/chcluster/); Kafka and ClickHouse are left running, stop them with deploy/local/down.sh" >&2
    exit 1
fi
echo "[up] local stack is up: kafka 127.0.0.1:${KAFKA_PORT:-9092}, clickhouse tcp 127.0.0.1:${CLICKHOUSE_PORT:-9000} http 127.0.0.1:${CLICKHOUSE_HTTP_PORT:-8123}, cluster 'earshot' tcp 127.0.0.1:$((${CHCLUSTER_PORT_BASE:-9100} + 1)),$((${CHCLUSTER_PORT_BASE:-9100} + 2)),$((${CHCLUSTER_PORT_BASE:-9100} + 3))"
