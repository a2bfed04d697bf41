SELECT
    lower(tag) AS hashtag,
    count() AS uses,
    uniqExact(author_id, platform) AS authors
FROM earshot.posts_dedup
ARRAY JOIN hashtags AS tag
WHERE has(watchlists, 'acme') AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY hashtag
ORDER BY uses DESC, hashtag
LIMIT 20
