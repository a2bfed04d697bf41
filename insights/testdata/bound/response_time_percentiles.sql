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
FROM earshot.alerts_latest
WHERE retracted = 0 AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY queue, priority
ORDER BY queue, priority
