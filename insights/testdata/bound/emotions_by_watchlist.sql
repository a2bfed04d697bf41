SELECT
    watchlist,
    if(emotion = '', 'none', emotion) AS feeling,
    count() AS mentions,
    countIf(irony = 1) AS ironic
FROM earshot.matches_dedup
WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY watchlist, feeling
ORDER BY watchlist, mentions DESC, feeling
