-- title: All-post volume by platform
-- description: Every post heard (matched or not) per platform and bucket,
--   from volume_per_minute: the firehose's own shape, and the denominator
--   of share of voice.
-- param since datetime = 24h: start of the window
-- param until datetime = now: end of the window (exclusive)
-- param bucket duration = 1h [1m, 31d]: bucket width (from multiples of it since 1970, UTC)
SELECT
    toDateTime(intDiv(toUInt32(minute), {bucket}) * {bucket}) AS bucket_start,
    platform,
    sum(posts) AS total
FROM {db}.volume_per_minute
WHERE minute >= {since} AND minute < {until}
GROUP BY bucket_start, platform
ORDER BY bucket_start, platform
