SELECT
    queue,
    region,
    priority,
    count() AS alerts,
    countIf(spike = 1) AS spikes,
    countIf(handed_off_from != '') AS handed_off,
    countIf(unstaffed = 1) AS unstaffed_alerts
FROM earshot.alerts_latest
WHERE retracted = 0 AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY queue, region, priority
ORDER BY queue, region, priority
