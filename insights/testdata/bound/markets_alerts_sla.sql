SELECT
    r AS region,
    m AS market,
    count() AS alerts,
    countIf(due_at > toDateTime(0)) AS with_sla,
    countIf(due_at > toDateTime(0) AND acknowledged_at > toDateTime(0) AND acknowledged_at <= due_at) AS met,
    countIf(due_at > toDateTime(0) AND (acknowledged_at > due_at OR (acknowledged_at = toDateTime(0) AND due_at < toDateTime(1795348800)))) AS breached,
    countIf(due_at > toDateTime(0) AND acknowledged_at = toDateTime(0) AND due_at >= toDateTime(1795348800)) AS pending,
    round(if(met + breached = 0, 1, met / (met + breached)), 4) AS compliance
FROM
(
    SELECT
        if('market' = 'global', '', region) AS r,
        if('market' = 'market', market, '') AS m,
        due_at,
        acknowledged_at
    FROM earshot.alerts_latest
    WHERE retracted = 0 AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
        AND ('' = '' OR region = '')
        AND ('' = '' OR market = '')
)
GROUP BY r, m
ORDER BY r, m
