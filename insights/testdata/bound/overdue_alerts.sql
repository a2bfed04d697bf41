SELECT
    alert_id,
    queue,
    team,
    priority,
    region,
    created_at,
    due_at,
    toInt64(toUInt32(toDateTime(1795348800))) - toInt64(toUInt32(due_at)) AS overdue_seconds
FROM earshot.alerts_latest
WHERE retracted = 0 AND ('' = '' OR queue = '')
    AND created_at >= toDateTime(0)
    AND due_at > toDateTime(0) AND due_at < toDateTime(1795348800)
    AND alert_id NOT IN
    (
        SELECT alert_id
        FROM
        (
            SELECT alert_id, min(at) AS first_response
            FROM earshot.alert_events
            WHERE at >= toDateTime(0) AND at < toDateTime(1795348800)
                AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.resolve', 'acknowledged')
            GROUP BY alert_id
        )
    )
    AND alert_id NOT IN (SELECT alert_id FROM earshot.alert_events FINAL WHERE event = 'resolved')
ORDER BY overdue_seconds DESC, alert_id
LIMIT 100
