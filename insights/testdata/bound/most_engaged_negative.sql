SELECT
    post_key,
    author_handle,
    created_at,
    region,
    likes + reposts + replies AS engagement,
    round(sentiment, 3) AS score,
    substring(text, 1, 280) AS excerpt
FROM earshot.posts_dedup
WHERE has(watchlists, 'acme') AND sentiment_label = 'negative'
    AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
ORDER BY engagement DESC, created_at DESC, post_key
LIMIT 20
