-- title: SLA compliance per queue and region
-- description: Of the alerts with a first-response deadline, how many were
--   acknowledged in time, late, or are still open past it (as of `as_of`),
--   and the compliance rate: met / (met + breached). Alerts still open
--   before their deadline are pending and not counted in the rate (which
--   is 1 while none is met or breached: read it beside met and breached).
--   Only an acknowledgement is a response: an alert resolved without one
--   counts as breached once its deadline passes.
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
-- param as_of datetime = now: the time open alerts are judged at
SELECT
    queue,
    region,
    count() AS with_sla,
    countIf(acknowledged_at > toDateTime(0) AND acknowledged_at <= due_at) AS met,
    countIf(acknowledged_at > due_at OR (acknowledged_at = toDateTime(0) AND due_at < {as_of})) AS breached,
    countIf(acknowledged_at = toDateTime(0) AND due_at >= {as_of}) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM {db}.alerts_latest
WHERE retracted = 0 AND due_at > toDateTime(0) AND created_at >= {since} AND created_at < {until}
GROUP BY queue, region
ORDER BY queue, region
