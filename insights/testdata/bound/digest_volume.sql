SELECT
    toDateTime(toUInt32(toDateTime(1794744000)) + intDiv(toUInt32(created_at) - toUInt32(toDateTime(1794744000)), 86400) * 86400) AS bucket_start,
    count() AS mentions,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative
FROM earshot.matches_dedup
WHERE ('' = '' OR has(splitByChar(',', ''), watchlist))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND ('' = '' OR hasAny(intents, splitByChar(',', '')))
    AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY bucket_start
ORDER BY bucket_start
