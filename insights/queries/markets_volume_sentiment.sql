-- title: Volume and sentiment per market, region and global
-- description: Mentions (distinct posts) and their sentiment at one level
--   of the organisation: per market (org.yaml markets: the market column;
--   '' is the posts of no market), per region (market ''), or global
--   (region and market ''). Narrow to a region or a market to drill down.
--   Exact under redelivery and deletes (matches_dedup).
-- param level string = "market": market, region or global (any other value is region)
-- param watchlist string = "": one watchlist, or "" for all
-- param region string = "": one region, or "" for all
-- param market string = "": one market, or "" for all
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
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
        if({level} = 'global', '', region) AS r,
        if({level} = 'market', market, '') AS m
    FROM {db}.matches_dedup
    WHERE ({watchlist} = '' OR watchlist = {watchlist})
        AND ({region} = '' OR region = {region})
        AND ({market} = '' OR market = {market})
        AND created_at >= {since} AND created_at < {until}
)
GROUP BY r, m
ORDER BY r, m
