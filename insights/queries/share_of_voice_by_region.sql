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
    SELECT region, watchlist, count() AS mentions
    FROM {db}.matches_dedup
    WHERE created_at >= {since} AND created_at < {until}
    GROUP BY region, watchlist
) AS by_watchlist
ALL INNER JOIN
(
    SELECT region, count() AS region_mentions
    FROM {db}.matches_dedup
    WHERE created_at >= {since} AND created_at < {until}
    GROUP BY region
) AS by_region USING region
ORDER BY region, mentions DESC, watchlist
