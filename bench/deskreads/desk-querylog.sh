#!/usr/bin/env bash
# desk-querylog.sh: the server's side of BenchmarkDeskLatencyClickHouse,
# per action and query kind (FindDesk, the insert, the events re-read),
# from system.query_log: every query the benchmark tagged (query ids
# <db>-BenchmarkDeskLatencyClickHouse/<action>-<round>-<request>-<k>)
# since a time, with its wall time, CPU time and CPU wait (the load's
# share) at p50 and p99 (issue 19, helper desk19p), and the bytes
# decompressed; table says whether the query read alerts or, since
# migration 11, alerts_desk (to tell two binaries' runs apart, desk19d).
#
#   bench/deskreads/desk-querylog.sh '2026-12-07 16:36:00'
#
# Needs curl and the HTTP port (CH, default http://127.0.0.1:8123).
set -euo pipefail
CH="${CH:-http://127.0.0.1:8123}"
curl -sS --fail-with-body "$CH/" --data-binary "SYSTEM FLUSH LOGS"
curl -sS --fail-with-body "$CH/" --data-binary "
SELECT extract(query_id, 'ClickHouse/([a-z0-9]+(?:-market)?)-[0-9]+-[0-9]+-[0-9]+\$') AS action,
  multiIf(query LIKE 'INSERT%', 'insert', query LIKE 'SELECT alert_id, queue, event%', 'events re-read',
    query LIKE 'SELECT alert_id, queue, team%' AND action != 'list50', 'FindDesk', 'other') AS kind,
  if(position(query, '.alerts_desk ') > 0, 'alerts_desk', 'alerts') AS table,
  count() AS n, quantileExact(0.5)(query_duration_ms) AS wall_p50, quantileExact(0.99)(query_duration_ms) AS wall_p99,
  round(quantileExact(0.5)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_p50,
  round(quantileExact(0.99)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUVirtualTimeMicroseconds')]) / 1000, 1) AS cpu_p99,
  round(quantileExact(0.99)(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'OSCPUWaitMicroseconds')]) / 1000, 1) AS wait_p99,
  round(avg(ProfileEvents.Values[indexOf(ProfileEvents.Names, 'CompressedReadBufferBytes')]) / 1e6, 2) AS decompressed_mb
FROM system.query_log
WHERE type = 2 AND event_time >= toDateTime('$1') AND query_id LIKE '%-BenchmarkDeskLatencyClickHouse/%'
GROUP BY action, kind, table ORDER BY action, kind, table FORMAT PrettyCompactMonoBlock"
