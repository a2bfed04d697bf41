SELECT
    term,
    countIf(created_at >= toDateTime(1794744000)) AS this_period,
    countIf(created_at < toDateTime(1794744000)) AS previous_period,
    toInt64(this_period) - toInt64(previous_period) AS change
FROM earshot.matches_dedup
ARRAY JOIN keywords AS term
WHERE ('' = '' OR has(splitByChar(',', ''), watchlist))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND ('' = '' OR hasAny(intents, splitByChar(',', '')))
    AND created_at >= toDateTime(2 * toInt64(toUInt32(toDateTime(1794744000))) - toInt64(toUInt32(toDateTime(1795348800)))) AND created_at < toDateTime(1795348800)
GROUP BY term
HAVING this_period > 0 AND (0 = 0 OR (change > 0 AND this_period >= 3))
ORDER BY if(0 = 1, change, toInt64(this_period)) DESC, this_period DESC, term
LIMIT 10
