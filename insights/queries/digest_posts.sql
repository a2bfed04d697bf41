-- title: Digest: most influential posts of a scope
-- description: The posts of the scope and window with the highest
--   influence score (0 to 100: followers, engagement, verification), then
--   the most engagement, with an excerpt of the text's first 281
--   characters (a digest shows at most 280, cut at a grapheme boundary with
--   "…": the one more tells it the text goes on); of a cluster of
--   near-duplicates (cluster_id) only its most influential post.
-- param watchlists string = "": comma-separated watchlists, or "" for all
-- param teams string = "": comma-separated owning teams (of the watchlists), or "" for all
-- param regions string = "": comma-separated regions of the posts, or "" for all
-- param markets string = "": comma-separated markets of the posts (org.yaml markets, as spelt there), or "" for all
-- param intents string = "": comma-separated intents; a post with any of them counts; "" for all
-- param since datetime = 7d: start of the window
-- param until datetime = now: end of the window (exclusive)
-- param top int = 5 [1, 1000]: posts to return
SELECT
    post_key,
    platform,
    author_handle,
    created_at,
    round(influence, 1) AS influence,
    likes + reposts + replies AS engagement,
    sentiment_label,
    substringUTF8(text, 1, 281) AS excerpt
FROM {db}.posts_dedup
WHERE created_at >= {since} AND created_at < {until}
    AND post_key IN
    (
        SELECT post_key FROM {db}.matches_dedup
        WHERE ({watchlists} = '' OR has(splitByChar(',', {watchlists}), watchlist))
    AND ({teams} = '' OR has(splitByChar(',', {teams}), team))
    AND ({regions} = '' OR has(splitByChar(',', {regions}), region))
    AND ({markets} = '' OR has(splitByChar(',', {markets}), market))
    AND ({intents} = '' OR hasAny(intents, splitByChar(',', {intents})))
            AND created_at >= {since} AND created_at < {until}
    )
ORDER BY influence DESC, engagement DESC, created_at DESC, post_key
LIMIT 1 BY if(cluster_id = '', post_key, cluster_id)
LIMIT {top}
