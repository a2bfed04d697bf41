-- title: Mentions by region and sentiment (roll-up)
-- description: Mentions per watchlist, region and sentiment over a window,
--   read from the hourly roll-up (mentions_hourly): the dashboards' fast
--   path over long windows. Whole hours only.
-- param watchlist string = "": one watchlist, or "" for all
-- param since datetime = 30d: start of the window (rounded down to the hour by the roll-up)
-- param until datetime = now: end of the window (exclusive)
SELECT
    watchlist,
    region,
    sentiment_label,
    sum(mentions) AS total
FROM {db}.mentions_hourly
WHERE ({watchlist} = '' OR watchlist = {watchlist}) AND hour >= toStartOfHour({since}) AND hour < {until}
GROUP BY watchlist, region, sentiment_label
ORDER BY watchlist, region, total DESC, sentiment_label
