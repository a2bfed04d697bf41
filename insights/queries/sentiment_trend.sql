-- title: Sentiment trend
-- description: A watchlist's sentiment over time, one row per bucket:
--   positive, neutral and negative mentions, the average score and the net
--   sentiment ((positive - negative) / mentions).
-- param watchlist string: the watchlist
-- param since datetime = 30d: start of the window
-- param until datetime = now: end of the window (exclusive)
-- param bucket duration = 1d [1m, 31d]: bucket width (buckets start at multiples of it since 1970, UTC)
SELECT
    toDateTime(intDiv(toUInt32(created_at), {bucket}) * {bucket}) AS bucket_start,
    count() AS mentions,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative,
    round(avg(sentiment), 3) AS avg_sentiment,
    round((positive - negative) / mentions, 3) AS net_sentiment
FROM {db}.matches_dedup
WHERE watchlist = {watchlist} AND created_at >= {since} AND created_at < {until}
GROUP BY bucket_start
ORDER BY bucket_start
