-- title: Language mix
-- description: The languages (as detected by enrichment) of a watchlist's
--   mentions and their shares.
-- param watchlist string: the watchlist
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    lang,
    count() AS mentions,
    round(mentions / (
        SELECT count() FROM {db}.matches_dedup
        WHERE watchlist = {watchlist} AND created_at >= {since} AND created_at < {until}
    ), 4) AS share
FROM {db}.matches_dedup
WHERE watchlist = {watchlist} AND created_at >= {since} AND created_at < {until}
GROUP BY lang
ORDER BY mentions DESC, lang
