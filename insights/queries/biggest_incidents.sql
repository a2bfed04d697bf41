-- title: Biggest incidents
-- description: The near-duplicate clusters (incidents) that raised alerts,
--   largest first: how many posts they grew to, how many alerts they raised
--   and on which queues, and when they started.
-- param since datetime = 7d: start of the window (alert creation time)
-- param until datetime = now: end of the window (exclusive)
-- param top int = 20 [1, 1000]: incidents to return
SELECT
    incident,
    max(incident_size) AS posts_in_incident,
    count() AS alerts,
    arraySort(groupUniqArray(queue)) AS queues,
    min(created_at) AS started
FROM {db}.alerts_latest
WHERE retracted = 0 AND incident != '' AND created_at >= {since} AND created_at < {until}
GROUP BY incident
ORDER BY posts_in_incident DESC, alerts DESC, incident
LIMIT {top}
