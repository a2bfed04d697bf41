-- title: Mentions over time per watchlist and region (roll-up)
-- description: Matched posts per time bucket, watchlist and region, from
--   the hourly roll-up: the volume chart of the dashboards. Buckets are at
--   least an hour wide (the roll-up's grain).
-- param watchlist string = "": one watchlist, or "" for all
-- param since datetime = 7d: start of the window (rounded down to the hour by the roll-up)
-- param until datetime = now: end of the window (exclusive)
-- param bucket duration = 1h [1h, 31d]: bucket width (buckets start at multiples of it since 1970, UTC)
SELECT
    toDateTime(intDiv(toUInt32(hour), {bucket}) * {bucket}) AS bucket_start,
    watchlist,
    region,
    sum(mentions) AS mentions
FROM {db}.mentions_hourly
WHERE ({watchlist} = '' OR watchlist = {watchlist}) AND hour >= toStartOfHour({since}) AND hour < {until}
GROUP BY bucket_start, watchlist, region
ORDER BY bucket_start, watchlist, region
