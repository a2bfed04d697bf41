-- title: Open alerts past their deadline
-- description: Alerts not acknowledged, resolved or retracted whose
--   first-response deadline has passed (as of `as_of`), most overdue first.
-- param queue string = "": one queue, or "" for all
-- param as_of datetime = now: the time deadlines are judged at
-- param top int = 100 [1, 10000]: alerts to return
SELECT
    alert_id,
    queue,
    team,
    priority,
    region,
    created_at,
    due_at,
    toInt64(toUInt32({as_of})) - toInt64(toUInt32(due_at)) AS overdue_seconds
FROM {db}.alerts_latest
WHERE retracted = 0 AND ({queue} = '' OR queue = {queue})
    AND acknowledged_at = toDateTime(0)
    AND due_at > toDateTime(0) AND due_at < {as_of}
    AND alert_id NOT IN (SELECT alert_id FROM {db}.alert_events FINAL WHERE event = 'resolved')
ORDER BY overdue_seconds DESC, alert_id
LIMIT {top}
