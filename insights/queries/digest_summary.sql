-- title: Digest: mentions and sentiment of a scope
-- description: The headline figures of a digest: matched posts (one per
--   post and watchlist) in the window and scope, by sentiment label, the
--   net sentiment ((positive - negative) / mentions) and the distinct
--   posts and authors. Posts the sentiment model abstained on (label
--   unknown) count in mentions only.
-- param watchlists string = "": comma-separated watchlists, or "" for all
-- param teams string = "": comma-separated owning teams (of the watchlists), or "" for all
-- param regions string = "": comma-separated regions of the posts, or "" for all
-- param markets string = "": comma-separated markets of the posts (org.yaml markets, as spelt there), or "" for all
-- param intents string = "": comma-separated intents; a post with any of them counts; "" for all
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
SELECT
    count() AS mentions,
    uniqExact(post_key) AS posts,
    countIf(sentiment_label = 'positive') AS positive,
    countIf(sentiment_label = 'neutral') AS neutral,
    countIf(sentiment_label = 'negative') AS negative,
    round(if(mentions = 0, 0, (positive - negative) / mentions), 3) AS net_sentiment
FROM {db}.matches_dedup
WHERE ({watchlists} = '' OR has(splitByChar(',', {watchlists}), watchlist))
    AND ({teams} = '' OR has(splitByChar(',', {teams}), team))
    AND ({regions} = '' OR has(splitByChar(',', {regions}), region))
    AND ({markets} = '' OR has(splitByChar(',', {markets}), market))
    AND ({intents} = '' OR hasAny(intents, splitByChar(',', {intents})))
    AND created_at >= {since} AND created_at < {until}
