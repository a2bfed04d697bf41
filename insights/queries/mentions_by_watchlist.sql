-- title: Mentions per watchlist
-- description: How many matched posts each watchlist had in the window, with
--   its sentiment mix: the first look at "how loud is each brand".
-- param since datetime = 7d: start of the window (RFC 3339, a date, or back from now: 24h, 7d)
-- param until datetime = now: end of the window (exclusive)
SELECT
    watchlist,
    count() AS mentions,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative,
    round(avg(sentiment), 3) AS avg_sentiment
FROM {db}.matches_dedup
WHERE created_at >= {since} AND created_at < {until}
GROUP BY watchlist
ORDER BY mentions DESC, watchlist
