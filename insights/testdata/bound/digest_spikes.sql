SELECT
    watchlist,
    hour,
    mentions_in_hour,
    round(hourly_average, 2) AS baseline,
    round(mentions_in_hour / hourly_average, 2) AS ratio
FROM
(
    SELECT
        watchlist,
        groupArray(hour) AS hours,
        groupArray(c) AS counts,
        sum(c) * 3600 / greatest(toInt64(toUInt32(toDateTime(1795348800))) - toInt64(toUInt32(toDateTime(1794744000))), 3600) AS hourly_average
    FROM
    (
        SELECT watchlist, toStartOfHour(created_at) AS hour, count() AS c
        FROM earshot.matches_dedup
        WHERE ('' = '' OR has(splitByChar(',', ''), watchlist))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND ('' = '' OR hasAny(intents, splitByChar(',', '')))
            AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
        GROUP BY watchlist, hour
    )
    GROUP BY watchlist
)
ARRAY JOIN hours AS hour, counts AS mentions_in_hour
WHERE mentions_in_hour >= 10 AND mentions_in_hour >= 3 * hourly_average
ORDER BY ratio DESC, mentions_in_hour DESC, watchlist, hour
LIMIT 5
