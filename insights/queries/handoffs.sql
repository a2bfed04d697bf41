-- title: Follow-the-sun hand-offs
-- description: Alerts whose rule's queue was off duty, by the queue the
--   rule chose and the queue that took them, with how many found nobody on
--   duty anywhere in the chain.
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
SELECT
    handed_off_from AS from_queue,
    queue AS to_queue,
    count() AS alerts,
    countIf(unstaffed = 1) AS unstaffed_alerts
FROM {db}.alerts_latest
WHERE retracted = 0 AND handed_off_from != '' AND created_at >= {since} AND created_at < {until}
GROUP BY from_queue, to_queue
ORDER BY alerts DESC, from_queue, to_queue
