-- title: Desk: open, claimed and resolved per queue, with SLA breaches
-- description: The responders' desk per queue, as of as_of: the alerts
--   raised in the window (retracted ones and those of deleted posts left
--   out) by desk state (open: unclaimed or reopened; claimed: claimed or
--   assigned; resolved), those with a first-response deadline and how many
--   missed it (answered after due_at, or unanswered past it; the first
--   response is the first claim, assignment, resolve or acknowledgement,
--   as sla_compliance counts it),
--   and how many missed the resolve target (resolved more than
--   resolve_within after creation, or still unresolved that long). The
--   state is the alert's last claim, assign, unclaim, resolve or reopen
--   (desk.<action>:<id> events of alert_events, ordered by seq), as the
--   earshot_alerts_open gauge reads it. Events before since are not read:
--   an alert of the window has none. Exact under redelivery: a repeated
--   event changes no minimum and no last event.
-- param queue string = "": one queue, or "" for all
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
-- param as_of datetime = now: the time the desk is read at (later events are not seen)
-- param resolve_within duration = 1d [1m, 366d]: the resolve target, from the alert's creation
SELECT
    queue,
    count() AS alerts,
    countIf(state = 'new') AS open,
    countIf(state = 'claimed') AS claimed,
    countIf(state = 'resolved') AS resolved,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND (first_response > due_at OR (first_response = toDateTime(0) AND due_at < {as_of}))) AS first_response_breached,
    countIf(toInt64(toUInt32(if(state = 'resolved', last_at, {as_of}))) - toInt64(toUInt32(created_at)) > {resolve_within}) AS resolve_breached
FROM
(
    SELECT
        queue,
        created_at,
        due_at,
        multiIf(last IN ('desk.claim', 'desk.assign'), 'claimed', last = 'desk.resolve', 'resolved', 'new') AS state,
        last_at,
        first_response
    FROM
    (
        SELECT alert_id, queue, created_at, due_at, last, last_at
        FROM {db}.alerts_latest
        ANY LEFT JOIN
        (
            SELECT alert_id, argMax(action, seq) AS last, argMax(at, seq) AS last_at
            FROM
            (
                SELECT alert_id, splitByChar(':', event)[1] AS action, at, seq
                FROM {db}.alert_events
                WHERE at >= {since} AND at < {as_of}
                    AND ({queue} = '' OR queue = {queue})
                    AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.unclaim', 'desk.resolve', 'desk.reopen')
            )
            GROUP BY alert_id
        ) AS ev USING alert_id
        WHERE retracted = 0 AND created_at >= {since} AND created_at < {until}
            AND ({queue} = '' OR queue = {queue})
    ) AS a
    ANY LEFT JOIN
    (
        {{first_response}}
    ) AS fr USING alert_id
)
GROUP BY queue
ORDER BY queue
