-- title: Digest: top and emerging terms of a scope
-- description: The watchlist keywords that matched in the window and in the
--   window of the same length before it. With emerging = 0, the most
--   matched this period; with emerging = 1, those that grew most (at least
--   min_mentions this period and more than before).
-- param watchlists string = "": comma-separated watchlists, or "" for all
-- param teams string = "": comma-separated owning teams (of the watchlists), or "" for all
-- param regions string = "": comma-separated regions of the posts, or "" for all
-- param markets string = "": comma-separated markets of the posts (org.yaml markets, as spelt there), or "" for all
-- param intents string = "": comma-separated intents; a post with any of them counts; "" for all
-- param since datetime = 7d: start of this period (the previous one is as long, just before)
-- param until datetime = now: end of this period (exclusive)
-- param emerging int = 0 [0, 1]: 0 for the top terms, 1 for the rising ones
-- param min_mentions int = 3 [1, 1000000000]: fewest matches this period for an emerging term
-- param top int = 10 [1, 1000]: terms to return
SELECT
    term,
    countIf(created_at >= {since}) AS this_period,
    countIf(created_at < {since}) AS previous_period,
    toInt64(this_period) - toInt64(previous_period) AS change
FROM {db}.matches_dedup
ARRAY JOIN keywords AS term
WHERE ({watchlists} = '' OR has(splitByChar(',', {watchlists}), watchlist))
    AND ({teams} = '' OR has(splitByChar(',', {teams}), team))
    AND ({regions} = '' OR has(splitByChar(',', {regions}), region))
    AND ({markets} = '' OR has(splitByChar(',', {markets}), market))
    AND ({intents} = '' OR hasAny(intents, splitByChar(',', {intents})))
    AND created_at >= toDateTime(2 * toInt64(toUInt32({since})) - toInt64(toUInt32({until}))) AND created_at < {until}
GROUP BY term
HAVING this_period > 0 AND ({emerging} = 0 OR (change > 0 AND this_period >= {min_mentions}))
ORDER BY if({emerging} = 1, change, toInt64(this_period)) DESC, this_period DESC, term
LIMIT {top}
