-- title: Digest: mention spikes of a scope
-- description: Hours in which a watchlist of the scope had at least
--   factor times its average hourly mentions over the window (and at least
--   min_mentions), biggest first. A digest explains each with the terms of
--   that hour (digest_terms over the hour).
-- param watchlists string = "": comma-separated watchlists, or "" for all
-- param teams string = "": comma-separated owning teams (of the watchlists), or "" for all
-- param regions string = "": comma-separated regions of the posts, or "" for all
-- param markets string = "": comma-separated markets of the posts (org.yaml markets, as spelt there), or "" for all
-- param intents string = "": comma-separated intents; a post with any of them counts; "" for all
-- param since datetime = 7d: start of the window (the baseline is the average over it)
-- param until datetime = now: end of the window (exclusive)
-- param factor int = 3 [1, 1000]: how many times the hourly average an hour must reach
-- param min_mentions int = 10 [1, 1000000000]: fewest mentions in the hour
-- param top int = 5 [1, 1000]: hours to return
SELECT
    watchlist,
    hour,
    mentions_in_hour,
    round(hourly_average, 2) AS baseline,
    round(mentions_in_hour / hourly_average, 2) AS ratio
FROM
(
    SELECT
        watchlist,
        groupArray(hour) AS hours,
        groupArray(c) AS counts,
        sum(c) * 3600 / greatest(toInt64(toUInt32({until})) - toInt64(toUInt32({since})), 3600) AS hourly_average
    FROM
    (
        SELECT watchlist, toStartOfHour(created_at) AS hour, count() AS c
        FROM {db}.matches_dedup
        WHERE ({watchlists} = '' OR has(splitByChar(',', {watchlists}), watchlist))
    AND ({teams} = '' OR has(splitByChar(',', {teams}), team))
    AND ({regions} = '' OR has(splitByChar(',', {regions}), region))
    AND ({markets} = '' OR has(splitByChar(',', {markets}), market))
    AND ({intents} = '' OR hasAny(intents, splitByChar(',', {intents})))
            AND created_at >= {since} AND created_at < {until}
        GROUP BY watchlist, hour
    )
    GROUP BY watchlist
)
ARRAY JOIN hours AS hour, counts AS mentions_in_hour
WHERE mentions_in_hour >= {min_mentions} AND mentions_in_hour >= {factor} * hourly_average
ORDER BY ratio DESC, mentions_in_hour DESC, watchlist, hour
LIMIT {top}
