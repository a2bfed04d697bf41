SELECT
    toDateTime(intDiv(toUInt32(created_at), 86400) * 86400) AS bucket_start,
    count() AS mentions,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative,
    round(avg(sentiment), 3) AS avg_sentiment,
    round((positive - negative) / mentions, 3) AS net_sentiment
FROM earshot.matches_dedup
WHERE watchlist = 'acme' AND created_at >= toDateTime(1792756800) AND created_at < toDateTime(1795348800)
GROUP BY bucket_start
ORDER BY bucket_start
