-- title: Top influencers
-- description: The authors with the most reach among a watchlist's posts:
--   their influence score (0 to 100, comparable across platforms),
--   followers, posts, engagement and how they feel about it.
-- param watchlist string: the watchlist
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
-- param top int = 20 [1, 1000]: authors to return
SELECT
    platform,
    author_handle,
    count() AS posts_in_window,
    max(author_followers) AS followers,
    round(max(influence), 1) AS max_influence,
    sum(likes + reposts + replies) AS engagement,
    round(avg(sentiment), 3) AS avg_sentiment
FROM {db}.posts_dedup
WHERE has(watchlists, {watchlist}) AND created_at >= {since} AND created_at < {until}
GROUP BY platform, author_handle
ORDER BY max_influence DESC, followers DESC, posts_in_window DESC, author_handle
LIMIT {top}
