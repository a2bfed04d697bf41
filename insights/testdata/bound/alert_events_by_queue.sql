SELECT
    queue,
    uniqExactIf(alert_id, event = 'created') AS created,
    uniqExactIf(alert_id, event = 'acknowledged') AS acknowledged,
    uniqExactIf(alert_id, event = 'escalated') AS escalated,
    uniqExactIf(alert_id, event = 'retracted') AS retracted,
    uniqExactIf(alert_id, splitByChar(':', event)[1] IN ('resolved', 'desk.resolve')) AS resolved
FROM earshot.alert_events FINAL
WHERE at >= toDateTime(1794744000) AND at < toDateTime(1795348800)
    AND alert_id IN (SELECT alert_id FROM earshot.alerts_latest)
GROUP BY queue
ORDER BY queue
