-- title: Share of voice by region
-- description: Within each region, each watchlist's share of all watchlist
--   mentions (competitive share of voice: brands against their rivals).
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    region,
    watchlist,
    mentions,
    region_mentions,
    round(mentions / region_mentions, 4) AS share
FROM
(
    SELECT region, groupArray(watchlist) AS watchlists_in_region, groupArray(c) AS counts, sum(c) AS region_mentions
    FROM
    (
        SELECT region, watchlist, count() AS c
        FROM {db}.matches_dedup
        WHERE created_at >= {since} AND created_at < {until}
        GROUP BY region, watchlist
    )
    GROUP BY region
)
ARRAY JOIN watchlists_in_region AS watchlist, counts AS mentions
ORDER BY region, mentions DESC, watchlist
