-- title: Significant words this period
-- description: The words of a watchlist's posts that are most
--   over-represented this period against the periods before it (the
--   background): what is new or growing in what people write. A word is a
--   run of 3 or more letters or digits, lower-cased; each post counts once
--   per word. lift is the word's share of this period's posts over its
--   share of the background's (plus one, so a new word has a finite lift);
--   score is this_period × ln(lift), and words with no lift are left out.
--   Themes (GET /v1/insights/themes, docs/analysts.md) go further: phrases,
--   every language's folding and stop words, and posts grouped by them.
-- param watchlist string: the watchlist
-- param until datetime = now: end of this period (exclusive)
-- param period duration = 7d [1h, 92d]: the length of this period
-- param baseline int = 4 [1, 12]: periods before it that make the background
-- param min_posts int = 5 [1, 1000000]: posts of this period a word needs
-- param top int = 30 [1, 1000]: words to return
SELECT
    word,
    this_period,
    background,
    round((this_period / (SELECT greatest(1, uniqExact(post_key)) FROM {db}.matches_dedup
            WHERE watchlist = {watchlist} AND created_at >= {until} - {period} AND created_at < {until}))
        / ((background + 1) / (1 + (SELECT uniqExact(post_key) FROM {db}.matches_dedup
            WHERE watchlist = {watchlist} AND created_at >= {until} - ({baseline} + 1) * {period} AND created_at < {until} - {period}))), 3) AS lift,
    round(this_period * log(lift), 2) AS score
FROM (
    SELECT
        word,
        countIf(created_at >= {until} - {period}) AS this_period,
        countIf(created_at < {until} - {period}) AS background
    FROM (
        SELECT created_at, arrayJoin(arrayDistinct(extractAll(lowerUTF8(text), '[\\pL\\pN][\\pL\\pN][\\pL\\pN]+'))) AS word
        FROM {db}.posts_dedup
        WHERE created_at >= {until} - ({baseline} + 1) * {period} AND created_at < {until}
            AND post_key IN (
                SELECT post_key FROM {db}.matches_dedup
                WHERE watchlist = {watchlist} AND created_at >= {until} - ({baseline} + 1) * {period} AND created_at < {until}
            )
    )
    GROUP BY word
    HAVING this_period >= {min_posts}
)
WHERE lift > 1
ORDER BY score DESC, this_period DESC, word
LIMIT {top}
