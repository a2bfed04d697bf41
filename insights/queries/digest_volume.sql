-- title: Digest: volume and sentiment over time
-- description: A scope's matched posts per bucket of the window, by
--   sentiment label. Buckets start at the window's start (not at multiples
--   since 1970), so a digest's days begin at its own local time. Empty
--   buckets are absent.
-- param watchlists string = "": comma-separated watchlists, or "" for all
-- param teams string = "": comma-separated owning teams (of the watchlists), or "" for all
-- param regions string = "": comma-separated regions of the posts, or "" for all
-- param markets string = "": comma-separated markets of the posts (org.yaml markets, as spelt there), or "" for all
-- param intents string = "": comma-separated intents; a post with any of them counts; "" for all
-- param since datetime = 7d: start of the window, and of the first bucket
-- param until datetime = now: end of the window (exclusive)
-- param bucket duration = 1d [1h, 31d]: bucket width
SELECT
    toDateTime(toUInt32({since}) + intDiv(toUInt32(created_at) - toUInt32({since}), {bucket}) * {bucket}) AS bucket_start,
    count() AS mentions,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative
FROM {db}.matches_dedup
WHERE ({watchlists} = '' OR has(splitByChar(',', {watchlists}), watchlist))
    AND ({teams} = '' OR has(splitByChar(',', {teams}), team))
    AND ({regions} = '' OR has(splitByChar(',', {regions}), region))
    AND ({markets} = '' OR has(splitByChar(',', {markets}), market))
    AND ({intents} = '' OR hasAny(intents, splitByChar(',', {intents})))
    AND created_at >= {since} AND created_at < {until}
GROUP BY bucket_start
ORDER BY bucket_start
