-- title: Top hashtags
-- description: The hashtags most used in a watchlist's posts (case folded),
--   with how many distinct authors used them.
-- param watchlist string: the watchlist
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
-- param top int = 20 [1, 1000]: hashtags to return
SELECT
    lower(tag) AS hashtag,
    count() AS uses,
    uniqExact(author_id, platform) AS authors
FROM {db}.posts_dedup
ARRAY JOIN hashtags AS tag
WHERE has(watchlists, {watchlist}) AND created_at >= {since} AND created_at < {until}
GROUP BY hashtag
ORDER BY uses DESC, hashtag
LIMIT {top}
