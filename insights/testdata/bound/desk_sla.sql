SELECT
    queue,
    count() AS alerts,
    countIf(state = 'new') AS open,
    countIf(state = 'claimed') AS claimed,
    countIf(state = 'resolved') AS resolved,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND (first_response > due_at OR (first_response = toDateTime(0) AND due_at < toDateTime(1795348800)))) AS first_response_breached,
    countIf(toInt64(toUInt32(if(state = 'resolved', last_at, toDateTime(1795348800)))) - toInt64(toUInt32(created_at)) > 86400) AS resolve_breached
FROM
(
    SELECT
        queue,
        created_at,
        due_at,
        multiIf(last IN ('desk.claim', 'desk.assign'), 'claimed', last = 'desk.resolve', 'resolved', 'new') AS state,
        last_at,
        first_response
    FROM
    (
        SELECT alert_id, queue, created_at, due_at, last, last_at
        FROM earshot.alerts_latest
        ANY LEFT JOIN
        (
            SELECT alert_id, argMax(action, seq) AS last, argMax(at, seq) AS last_at
            FROM
            (
                SELECT alert_id, splitByChar(':', event)[1] AS action, at, seq
                FROM earshot.alert_events
                WHERE at >= toDateTime(1794744000) AND at < toDateTime(1795348800)
                    AND ('' = '' OR queue = '')
                    AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.unclaim', 'desk.resolve', 'desk.reopen')
            )
            GROUP BY alert_id
        ) AS ev USING alert_id
        WHERE retracted = 0 AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
            AND ('' = '' OR queue = '')
    ) AS a
    ANY LEFT JOIN
    (
        SELECT alert_id, min(at) AS first_response
        FROM earshot.alert_events
        WHERE at >= toDateTime(1794744000) AND at < toDateTime(1795348800)
            AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.resolve', 'acknowledged')
        GROUP BY alert_id
    ) AS fr USING alert_id
)
GROUP BY queue
ORDER BY queue
