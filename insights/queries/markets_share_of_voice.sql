-- title: Share of voice per market, region and global
-- description: Within each market (or region, or the whole organisation:
--   see level), each watchlist's share of all watchlist mentions there.
--   Exact under redelivery and deletes (matches_dedup).
-- param level string = "market": market, region or global (any other value is region)
-- param region string = "": one region, or "" for all
-- param market string = "": one market, or "" for all
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    r AS region,
    m AS market,
    watchlist,
    mentions,
    cell_mentions,
    round(mentions / cell_mentions, 4) AS share
FROM
(
    SELECT r, m, groupArray(wl) AS watchlists_in_cell, groupArray(c) AS counts, sum(c) AS cell_mentions
    FROM
    (
        SELECT
            if({level} = 'global', '', region) AS r,
            if({level} = 'market', market, '') AS m,
            watchlist AS wl,
            count() AS c
        FROM {db}.matches_dedup
        WHERE ({region} = '' OR region = {region})
            AND ({market} = '' OR market = {market})
            AND created_at >= {since} AND created_at < {until}
        GROUP BY r, m, wl
    )
    GROUP BY r, m
)
ARRAY JOIN watchlists_in_cell AS watchlist, counts AS mentions
ORDER BY region, market, mentions DESC, watchlist
