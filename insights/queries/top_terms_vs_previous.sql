-- title: Top terms this period against the last
-- description: The watchlist keywords that matched most in the last period
--   (a week by default) and how many times they matched in the period
--   before it: what is rising, what is fading.
-- param watchlist string = "": one watchlist, or "" for all
-- param until datetime = now: end of this period (exclusive)
-- param period duration = 7d [1h, 366d]: the length of each period
-- param top int = 20 [1, 1000]: terms to return
SELECT
    term,
    countIf(created_at >= {until} - {period}) AS this_period,
    countIf(created_at < {until} - {period}) AS previous_period,
    this_period - previous_period AS change
FROM {db}.matches_dedup
ARRAY JOIN keywords AS term
WHERE ({watchlist} = '' OR watchlist = {watchlist})
    AND created_at >= {until} - 2 * {period} AND created_at < {until}
GROUP BY term
ORDER BY this_period DESC, change DESC, term
LIMIT {top}
