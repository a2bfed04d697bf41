-- title: Digest: alerts and SLA of a scope
-- description: Alerts raised in the window per queue (retracted ones left
--   out): how many, spike alerts, and of those with a first-response
--   deadline how many were answered in time (first claim, assignment,
--   resolve or acknowledgement), late or are still unanswered past it (as
--   of as_of), with the compliance rate met / (met + breached), as
--   sla_compliance and the desk count them. Alerts carry no intents: the intents
--   filter does not apply to them.
-- param watchlists string = "": comma-separated watchlists (an alert on any of them counts), or "" for all
-- param teams string = "": comma-separated teams the alerts went to, or "" for all
-- param regions string = "": comma-separated regions, or "" for all
-- param markets string = "": comma-separated markets of the alerts (org.yaml markets, as spelt there), or "" for all
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
-- param as_of datetime = now: the time open alerts are judged at
SELECT
    queue,
    count() AS alerts,
    countIf(spike = 1) AS spikes,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND first_response > toDateTime(0) AND first_response <= due_at) AS met,
    countIf(due_at > toDateTime(0) AND (first_response > due_at OR (first_response = toDateTime(0) AND due_at < {as_of}))) AS breached,
    countIf(due_at > toDateTime(0) AND first_response = toDateTime(0) AND due_at >= {as_of}) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM {db}.alerts_latest
ANY LEFT JOIN
(
    {{first_response}}
) AS fr USING alert_id
WHERE retracted = 0
    AND ({watchlists} = '' OR hasAny(watchlists, splitByChar(',', {watchlists})))
    AND ({teams} = '' OR has(splitByChar(',', {teams}), team))
    AND ({regions} = '' OR has(splitByChar(',', {regions}), region))
    AND ({markets} = '' OR has(splitByChar(',', {markets}), market))
    AND created_at >= {since} AND created_at < {until}
GROUP BY queue
ORDER BY alerts DESC, queue
LIMIT 100
