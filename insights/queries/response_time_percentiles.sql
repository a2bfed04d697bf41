-- title: Response time percentiles per queue
-- description: Seconds from an alert's creation to its first
--   acknowledgement, per queue and priority: median, p90, p95 and the
--   slowest (exact percentiles: the value at rank level x n); and how many
--   alerts are still unacknowledged.
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
SELECT
    queue,
    priority,
    countIf(acknowledged_at > toDateTime(0)) AS acknowledged,
    countIf(acknowledged_at = toDateTime(0)) AS unacknowledged,
    quantilesExactIf(0.5, 0.9, 0.95)(toInt64(toUInt32(acknowledged_at)) - toInt64(toUInt32(created_at)), acknowledged_at > toDateTime(0)) AS q,
    q[1] AS p50_seconds,
    q[2] AS p90_seconds,
    q[3] AS p95_seconds,
    maxIf(toInt64(toUInt32(acknowledged_at)) - toInt64(toUInt32(created_at)), acknowledged_at > toDateTime(0)) AS max_seconds
FROM {db}.alerts_latest
WHERE retracted = 0 AND created_at >= {since} AND created_at < {until}
GROUP BY queue, priority
ORDER BY queue, priority
