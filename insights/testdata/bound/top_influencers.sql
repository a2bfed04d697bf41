SELECT
    platform,
    author_handle,
    count() AS posts_in_window,
    max(author_followers) AS followers,
    round(max(influence), 1) AS max_influence,
    sum(likes + reposts + replies) AS engagement,
    round(avg(sentiment), 3) AS avg_sentiment
FROM earshot.posts_dedup
WHERE has(watchlists, 'acme') AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY platform, author_handle
ORDER BY max_influence DESC, followers DESC, posts_in_window DESC, author_handle
LIMIT 20
