-- title: Emotions and irony per watchlist
-- description: How people feel when they mention each watchlist: the
--   emotion model's anger, joy, optimism or sadness (English posts with a
--   clear emotion; "none" for the rest), and how many of those mentions
--   read as ironic.
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    watchlist,
    if(emotion = '', 'none', emotion) AS feeling,
    count() AS mentions,
    countIf(irony = 1) AS ironic
FROM {db}.matches_dedup
WHERE created_at >= {since} AND created_at < {until}
GROUP BY watchlist, feeling
ORDER BY watchlist, mentions DESC, feeling
