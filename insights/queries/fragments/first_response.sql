-- The first response to each alert, as the desk counts it
-- (docs/desk.md#sla-clocks): its first claim, assignment, resolve or
-- acknowledgement (/ack) seen before as_of. One definition for every SLA
-- figure: sla_compliance (the dashboard), markets_alerts_sla,
-- digest_alerts and desk_sla splice it in as {{first_response}}, joined
-- to the alerts by alert_id (an alert without a response gets 1970).
-- Events before since are not read (alert_events is partitioned by month
-- of at): an alert created in the window is answered after it was raised,
-- as the desk's own count (sink DeskCounts) reads it. A redelivered event
-- changes no minimum.
SELECT alert_id, min(at) AS first_response
FROM {db}.alert_events
WHERE at >= {since} AND at < {as_of}
    AND splitByChar(':', event)[1] IN ('desk.claim', 'desk.assign', 'desk.resolve', 'acknowledged')
GROUP BY alert_id
