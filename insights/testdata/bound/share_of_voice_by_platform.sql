SELECT
    platform,
    matched,
    all_posts,
    round(if(all_posts = 0, 0, matched / all_posts), 6) AS share
FROM
(
    SELECT platform, sum(posts) AS all_posts
    FROM earshot.volume_per_minute
    WHERE minute >= toDateTime(1794744000) AND minute < toDateTime(1795348800)
    GROUP BY platform
) AS heard
ALL LEFT JOIN
(
    SELECT platform, count() AS matched
    FROM earshot.posts_dedup
    WHERE has(watchlists, 'acme') AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
    GROUP BY platform
) AS matched_posts USING platform
ORDER BY all_posts DESC, platform
