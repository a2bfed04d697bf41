-- title: Intents per watchlist
-- description: What people want when they mention each watchlist:
--   complaints, questions, praise, purchase intent, crises, ... (a post may
--   carry several intents; posts with none are not counted).
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    watchlist,
    intent,
    count() AS mentions
FROM {db}.matches_dedup
ARRAY JOIN intents AS intent
WHERE created_at >= {since} AND created_at < {until}
GROUP BY watchlist, intent
ORDER BY watchlist, mentions DESC, intent
