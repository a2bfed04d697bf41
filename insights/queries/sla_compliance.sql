-- title: SLA compliance per queue and region
-- description: Of the alerts with a first-response deadline, how many were
--   answered in time, late, or are still unanswered past it (as of
--   `as_of`), and the compliance rate: met / (met + breached). The first
--   response is the first claim, assignment, resolve or acknowledgement
--   before as_of, as the desk counts it (desk_sla, the earshot_alerts_*
--   metrics). Alerts still unanswered before their deadline are pending and
--   not counted in the rate (which is 1 while none is met or breached: read
--   it beside met and breached).
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
-- param as_of datetime = now: the time open alerts are judged at
SELECT
    queue,
    region,
    count() AS with_sla,
    countIf(first_response > toDateTime(0) AND first_response <= due_at) AS met,
    countIf(first_response > due_at OR (first_response = toDateTime(0) AND due_at < {as_of})) AS breached,
    countIf(first_response = toDateTime(0) AND due_at >= {as_of}) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM {db}.alerts_latest
ANY LEFT JOIN
(
    {{first_response}}
) AS fr USING alert_id
WHERE retracted = 0 AND due_at > toDateTime(0) AND created_at >= {since} AND created_at < {until}
GROUP BY queue, region
ORDER BY queue, region
