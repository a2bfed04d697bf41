SELECT
    queue,
    count() AS alerts,
    countIf(spike = 1) AS spikes,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND acknowledged_at > toDateTime(0) AND acknowledged_at <= due_at) AS met,
    countIf(due_at > toDateTime(0) AND (acknowledged_at > due_at OR (acknowledged_at = toDateTime(0) AND due_at < toDateTime(1795348800)))) AS breached,
    countIf(due_at > toDateTime(0) AND acknowledged_at = toDateTime(0) AND due_at >= toDateTime(1795348800)) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM earshot.alerts_latest
WHERE retracted = 0
    AND ('' = '' OR hasAny(watchlists, splitByChar(',', '')))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY queue
ORDER BY alerts DESC, queue
LIMIT 100
