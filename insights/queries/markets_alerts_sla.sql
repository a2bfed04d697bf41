-- title: Alerts and SLA per market, region and global
-- description: Alerts raised (retracted ones and those of deleted posts
--   left out) and their first-response SLA at one level of the
--   organisation (see level): of the alerts with a deadline, how many were
--   answered in time (first claim, assignment, resolve or acknowledgement),
--   late or are still unanswered past it as of `as_of`, and the compliance
--   rate met / (met + breached), as sla_compliance and the desk count them.
-- param level string = "market": market, region or global (any other value is region)
-- param region string = "": one region, or "" for all
-- param market string = "": one market, or "" for all
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
-- param as_of datetime = now: the time open alerts are judged at
SELECT
    r AS region,
    m AS market,
    count() AS alerts,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND first_response > toDateTime(0) AND first_response <= due_at) AS met,
    countIf(due_at > toDateTime(0) AND (first_response > due_at OR (first_response = toDateTime(0) AND due_at < {as_of}))) AS breached,
    countIf(due_at > toDateTime(0) AND first_response = toDateTime(0) AND due_at >= {as_of}) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM
(
    SELECT
        if({level} = 'global', '', region) AS r,
        if({level} = 'market', market, '') AS m,
        due_at,
        first_response
    FROM {db}.alerts_latest
    ANY LEFT JOIN
    (
        {{first_response}}
    ) AS fr USING alert_id
    WHERE retracted = 0 AND created_at >= {since} AND created_at < {until}
        AND ({region} = '' OR region = {region})
        AND ({market} = '' OR market = {market})
)
GROUP BY r, m
ORDER BY r, m
