SELECT
    lang,
    mentions,
    round(mentions / total, 4) AS share
FROM
(
    SELECT groupArray(lang) AS langs, groupArray(c) AS counts, sum(c) AS total
    FROM
    (
        SELECT lang, count() AS c
        FROM earshot.matches_dedup
        WHERE watchlist = 'acme' AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
        GROUP BY lang
    )
)
ARRAY JOIN langs AS lang, counts AS mentions
ORDER BY mentions DESC, lang
