SELECT
    toDateTime(intDiv(toUInt32(hour), 3600) * 3600) AS bucket_start,
    watchlist,
    region,
    sum(mentions) AS mentions
FROM earshot.mentions_hourly
WHERE ('' = '' OR watchlist = '') AND hour >= toStartOfHour(toDateTime(1794744000)) AND hour < toDateTime(1795348800)
GROUP BY bucket_start, watchlist, region
ORDER BY bucket_start, watchlist, region
