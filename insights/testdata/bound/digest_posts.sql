SELECT
    post_key,
    platform,
    author_handle,
    created_at,
    round(influence, 1) AS influence,
    likes + reposts + replies AS engagement,
    sentiment_label,
    substringUTF8(text, 1, 281) AS excerpt
FROM earshot.posts_dedup
WHERE created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
    AND post_key IN
    (
        SELECT post_key FROM earshot.matches_dedup
        WHERE ('' = '' OR has(splitByChar(',', ''), watchlist))
    AND ('' = '' OR has(splitByChar(',', ''), team))
    AND ('' = '' OR has(splitByChar(',', ''), region))
    AND ('' = '' OR has(splitByChar(',', ''), market))
    AND ('' = '' OR hasAny(intents, splitByChar(',', '')))
            AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
    )
ORDER BY influence DESC, engagement DESC, created_at DESC, post_key
LIMIT 1 BY if(cluster_id = '', post_key, cluster_id)
LIMIT 5
