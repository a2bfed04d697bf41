SELECT
    queue,
    region,
    count() AS with_sla,
    countIf(acknowledged_at > toDateTime(0) AND acknowledged_at <= due_at) AS met,
    countIf(acknowledged_at > due_at OR (acknowledged_at = toDateTime(0) AND due_at < toDateTime(1795348800))) AS breached,
    countIf(acknowledged_at = toDateTime(0) AND due_at >= toDateTime(1795348800)) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM earshot.alerts_latest
WHERE retracted = 0 AND due_at > toDateTime(0) AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY queue, region
ORDER BY queue, region
