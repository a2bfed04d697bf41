SELECT
    watchlist,
    count() AS mentions,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative,
    round(avg(sentiment), 3) AS avg_sentiment
FROM earshot.matches_dedup
WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY watchlist
ORDER BY mentions DESC, watchlist
