SELECT
    word,
    this_period,
    background,
    round((this_period / (SELECT greatest(1, uniqExact(post_key)) FROM earshot.matches_dedup
            WHERE watchlist = 'acme' AND created_at >= toDateTime(1795348800) - 604800 AND created_at < toDateTime(1795348800)))
        / ((background + 1) / (1 + (SELECT uniqExact(post_key) FROM earshot.matches_dedup
            WHERE watchlist = 'acme' AND created_at >= toDateTime(1795348800) - (4 + 1) * 604800 AND created_at < toDateTime(1795348800) - 604800))), 3) AS lift,
    round(this_period * log(lift), 2) AS score
FROM (
    SELECT
        word,
        countIf(created_at >= toDateTime(1795348800) - 604800) AS this_period,
        countIf(created_at < toDateTime(1795348800) - 604800) AS background
    FROM (
        SELECT created_at, arrayJoin(arrayDistinct(extractAll(lowerUTF8(text), '[\\pL\\pN][\\pL\\pN][\\pL\\pN]+'))) AS word
        FROM earshot.posts_dedup
        WHERE created_at >= toDateTime(1795348800) - (4 + 1) * 604800 AND created_at < toDateTime(1795348800)
            AND post_key IN (
                SELECT post_key FROM earshot.matches_dedup
                WHERE watchlist = 'acme' AND created_at >= toDateTime(1795348800) - (4 + 1) * 604800 AND created_at < toDateTime(1795348800)
            )
    )
    GROUP BY word
    HAVING this_period >= 5
)
WHERE lift > 1
ORDER BY score DESC, this_period DESC, word
LIMIT 30
