-- title: Language mix
-- description: The languages (as detected by enrichment) of a watchlist's
--   mentions and their shares.
-- param watchlist string: the watchlist
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
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
        FROM {db}.matches_dedup
        WHERE watchlist = {watchlist} AND created_at >= {since} AND created_at < {until}
        GROUP BY lang
    )
)
ARRAY JOIN langs AS lang, counts AS mentions
ORDER BY mentions DESC, lang
