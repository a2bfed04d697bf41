SELECT
    term,
    countIf(created_at >= toDateTime(1795348800) - 604800) AS this_period,
    countIf(created_at < toDateTime(1795348800) - 604800) AS previous_period,
    this_period - previous_period AS change
FROM earshot.matches_dedup
ARRAY JOIN keywords AS term
WHERE ('' = '' OR watchlist = '')
    AND created_at >= toDateTime(1795348800) - 2 * 604800 AND created_at < toDateTime(1795348800)
GROUP BY term
ORDER BY this_period DESC, change DESC, term
LIMIT 20
