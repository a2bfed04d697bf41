-- title: Digest: data freshness
-- description: How fresh the stored matches are as of a time: the newest
--   post creation time before it, and when the sink last wrote a match.
--   A digest states both, so a reader can tell a quiet week from a stalled
--   pipeline.
-- param until datetime = now: the time the digest is as of
SELECT
    maxIf(created_at, created_at < {until}) AS latest_post,
    max(inserted_at) AS latest_write
FROM {db}.matches_dedup
