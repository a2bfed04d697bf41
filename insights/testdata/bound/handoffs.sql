SELECT
    handed_off_from AS from_queue,
    queue AS to_queue,
    count() AS alerts,
    countIf(unstaffed = 1) AS unstaffed_alerts
FROM earshot.alerts_latest
WHERE retracted = 0 AND handed_off_from != '' AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY from_queue, to_queue
ORDER BY alerts DESC, from_queue, to_queue
