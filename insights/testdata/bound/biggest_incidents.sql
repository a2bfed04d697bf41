SELECT
    incident,
    max(incident_size) AS posts_in_incident,
    count() AS alerts,
    arraySort(groupUniqArray(queue)) AS queues,
    min(created_at) AS started
FROM earshot.alerts_latest
WHERE retracted = 0 AND incident != '' AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY incident
ORDER BY posts_in_incident DESC, alerts DESC, incident
LIMIT 20
