-- title: Alert volume per queue and region
-- description: Alerts raised per queue, region and priority in the window
--   (retracted alerts left out), with how many were spike alerts, handed
--   off, or raised when nobody was on duty.
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
SELECT
    queue,
    region,
    priority,
    count() AS alerts,
    countIf(spike = 1) AS spikes,
    countIf(handed_off_from != '') AS handed_off,
    countIf(unstaffed = 1) AS unstaffed_alerts
FROM {db}.alerts_latest
WHERE retracted = 0 AND created_at >= {since} AND created_at < {until}
GROUP BY queue, region, priority
ORDER BY queue, region, priority
