-- title: Most engaged negative posts
-- description: A watchlist's negative posts with the most likes, reposts and
--   replies: the complaints that are travelling.
-- param watchlist string: the watchlist
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
-- param top int = 20 [1, 1000]: posts to return
SELECT
    post_key,
    author_handle,
    created_at,
    region,
    likes + reposts + replies AS engagement,
    round(sentiment, 3) AS score,
    substring(text, 1, 280) AS excerpt
FROM {db}.posts_dedup
WHERE has(watchlists, {watchlist}) AND sentiment_label = 'negative'
    AND created_at >= {since} AND created_at < {until}
ORDER BY engagement DESC, created_at DESC, post_key
LIMIT {top}
