-- title: Share of voice of all posts, by platform
-- description: The share of ALL posts heard on each platform (matched or
--   not, from volume_per_minute) that one watchlist matched.
-- param watchlist string: the watchlist
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    platform,
    matched,
    all_posts,
    round(if(all_posts = 0, 0, matched / all_posts), 6) AS share
FROM
(
    SELECT platform, sum(posts) AS all_posts
    FROM {db}.volume_per_minute
    WHERE minute >= {since} AND minute < {until}
    GROUP BY platform
) AS heard
ALL LEFT JOIN
(
    SELECT platform, count() AS matched
    FROM {db}.posts_dedup
    WHERE has(watchlists, {watchlist}) AND created_at >= {since} AND created_at < {until}
    GROUP BY platform
) AS matched_posts USING platform
ORDER BY all_posts DESC, platform
