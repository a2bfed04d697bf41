SELECT
    region,
    watchlist,
    mentions,
    region_mentions,
    round(mentions / region_mentions, 4) AS share
FROM
(
    SELECT region, watchlist, count() AS mentions
    FROM earshot.matches_dedup
    WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
    GROUP BY region, watchlist
) AS by_watchlist
ALL INNER JOIN
(
    SELECT region, count() AS region_mentions
    FROM earshot.matches_dedup
    WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
    GROUP BY region
) AS by_region USING region
ORDER BY region, mentions DESC, watchlist
