-- title: Top terms (roll-up)
-- description: The keywords that matched most for a watchlist over whole
--   days, from the daily roll-up (terms_daily), with the days they were seen.
-- param watchlist string: the watchlist
-- param since datetime = 30d: first day (its date, UTC)
-- param until datetime = now: last day (its date, UTC, included)
-- param top int = 20 [1, 1000]: terms to return
SELECT
    term,
    sum(mentions) AS total,
    uniqExact(day) AS days_seen
FROM {db}.terms_daily
WHERE watchlist = {watchlist} AND day >= toDate({since}) AND day <= toDate({until})
GROUP BY term
ORDER BY total DESC, term
LIMIT {top}
