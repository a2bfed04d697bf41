#!/usr/bin/env bash
# Stop the local stack (the ClickHouse cluster, ClickHouse, then Kafka). No error if not running.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

rc=0
"$HERE/chcluster.sh" stop || rc=1
"$HERE/clickhouse.sh" stop || rc=1
"$HERE/kafka.sh" stop || rc=1
if [[ "$rc" -ne 0 ]]; then
    echo "[down] ERROR: could not stop everything (see messages above)" >&2
fi
exit "$rc"
