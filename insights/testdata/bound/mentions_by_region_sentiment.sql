SELECT
    watchlist,
    region,
    sentiment_label,
    sum(mentions) AS total
FROM earshot.mentions_hourly
WHERE ('' = '' OR watchlist = '') AND hour >= toStartOfHour(toDateTime(1792756800)) AND hour < toDateTime(1795348800)
GROUP BY watchlist, region, sentiment_label
ORDER BY watchlist, region, total DESC, sentiment_label
