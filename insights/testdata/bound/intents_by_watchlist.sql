SELECT
    watchlist,
    intent,
    count() AS mentions
FROM earshot.matches_dedup
ARRAY JOIN intents AS intent
WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY watchlist, intent
ORDER BY watchlist, mentions DESC, intent
