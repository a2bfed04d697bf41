SELECT
    toDateTime(intDiv(toUInt32(minute), 3600) * 3600) AS bucket_start,
    platform,
    sum(posts) AS total
FROM earshot.volume_per_minute
WHERE minute >= toDateTime(1795262400) AND minute < toDateTime(1795348800)
GROUP BY bucket_start, platform
ORDER BY bucket_start, platform
