SELECT
    r AS region,
    m AS market,
    uniqExact(post_key) AS mentions,
    uniqExactIf(post_key, sentiment_label = 'positive') AS positive,
    uniqExactIf(post_key, sentiment_label = 'neutral') AS neutral,
    uniqExactIf(post_key, sentiment_label = 'negative') AS negative,
    round((positive - negative) / mentions, 3) AS net_sentiment
FROM
(
    SELECT
        post_key,
        sentiment_label,
        if('market' = 'global', '', region) AS r,
        if('market' = 'market', market, '') AS m
    FROM earshot.matches_dedup
    WHERE ('' = '' OR watchlist = '')
        AND ('' = '' OR region = '')
        AND ('' = '' OR market = '')
        AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
)
GROUP BY r, m
ORDER BY r, m
