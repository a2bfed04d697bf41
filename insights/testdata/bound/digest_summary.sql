SELECT
    count() AS mentions,
    uniqExact(post_key) AS posts,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative,
    round(if(mentions = 0, 0, (positive - negative) / mentions), 3) AS net_sentiment
FROM earshot.matches_dedup
WHERE ('' = '' OR has(splitByChar(',', ''), watchlist))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND ('' = '' OR hasAny(intents, splitByChar(',', '')))
    AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
