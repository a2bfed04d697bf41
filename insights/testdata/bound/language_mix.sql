SELECT
    lang,
    count() AS mentions,
    round(mentions / (
        SELECT count() FROM earshot.matches_dedup
        WHERE watchlist = 'acme' AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
    ), 4) AS share
FROM earshot.matches_dedup
WHERE watchlist = 'acme' AND created_at >= toDateTime(1794744000) AND created_at < toDateTime(1795348800)
GROUP BY lang
ORDER BY mentions DESC, lang
