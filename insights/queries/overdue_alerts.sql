-- title: Open alerts past their deadline
-- description: Alerts whose first-response deadline has passed (as of
--   `as_of`) and that nobody has answered — no claim, assignment, resolve
--   or acknowledgement before as_of, the first response as the desk and
--   sla_compliance count it — nor retracted; most overdue first.
-- param queue string = "": one queue, or "" for all
-- param since datetime = 1970-01-01: only the alerts raised since then (all by default; a later since reads fewer events)
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
    AND created_at >= {since}
    AND due_at > toDateTime(0) AND due_at < {as_of}
    AND alert_id NOT IN
    (
        SELECT alert_id
        FROM
        (
            {{first_response}}
        )
    )
    AND alert_id NOT IN (SELECT alert_id FROM {db}.alert_events FINAL WHERE event = 'resolved')
ORDER BY overdue_seconds DESC, alert_id
LIMIT {top}
