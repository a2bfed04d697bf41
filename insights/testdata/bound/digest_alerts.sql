SELECT
    queue,
    count() AS alerts,
    countIf(spike = 1) AS spikes,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND first_response > toDateTime(0) AND first_response <= due_at) AS met,
    countIf(due_at > toDateTime(0) AND (first_response > due_at OR (first_response = toDateTime(0) AND due_at < toDateTime(1795348800)))) AS breached,
    countIf(due_at > toDateTime(0) AND first_response = toDateTime(0) AND due_at >= toDateTime(1795348800)) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM earshot.alerts_latest
ANY LEFT JOIN
(
    SELECT alert_id, min(at) AS first_response
    FROM earshot.alert_events
    WHERE at >= toDateTime(1794744000) AND at < toDateTime(1795348800)
        AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.resolve', 'acknowledged')
    GROUP BY alert_id
) AS fr USING alert_id
WHERE retracted = 0
    AND ('' = '' OR hasAny(watchlists, splitByChar(',', '')))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY queue
ORDER BY alerts DESC, queue
LIMIT 100
