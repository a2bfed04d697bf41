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
        FROM earshot.matches_dedup
        WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
        GROUP BY region, watchlist
    )
    GROUP BY region
)
ARRAY JOIN watchlists_in_region AS watchlist, counts AS mentions
ORDER BY region, mentions DESC, watchlist
