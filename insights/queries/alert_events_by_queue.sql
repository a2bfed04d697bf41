-- title: Alert lifecycle events per queue
-- description: How many alerts were created, acknowledged, escalated,
--   retracted and resolved on each queue in the window (by the time of the
--   event), counting each alert at most once per kind of event. Resolved is
--   a resolve on the desk (desk.resolve:<id>) or the older resolved event.
--   Alerts of deleted posts are left out, as in alerts_latest.
-- param since datetime = 7d: start of the window (event time)
-- param until datetime = now: end of the window (exclusive)
SELECT
    queue,
    uniqExactIf(alert_id, event = 'created') AS created,
    uniqExactIf(alert_id, event = 'acknowledged') AS acknowledged,
    uniqExactIf(alert_id, event = 'escalated') AS escalated,
    uniqExactIf(alert_id, event = 'retracted') AS retracted,
    uniqExactIf(alert_id, splitByChar(':', event)[1] IN ('resolved', 'desk.resolve')) AS resolved
FROM {db}.alert_events FINAL
WHERE at >= {since} AND at < {until}
    AND alert_id IN (SELECT alert_id FROM {db}.alerts_latest)
GROUP BY queue
ORDER BY queue
