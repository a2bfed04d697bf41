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
            if('market' = 'global', '', region) AS r,
            if('market' = 'market', market, '') AS m,
            watchlist AS wl,
            count() AS c
        FROM earshot.matches_dedup
        WHERE ('' = '' OR region = '')
            AND ('' = '' OR market = '')
            AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
        GROUP BY r, m, wl
    )
    GROUP BY r, m
)
ARRAY JOIN watchlists_in_cell AS watchlist, counts AS mentions
ORDER BY region, market, mentions DESC, watchlist
