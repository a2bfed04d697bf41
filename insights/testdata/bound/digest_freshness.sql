SELECT
    maxIf(created_at, created_at < toDateTime(1795348800)) AS latest_post,
    max(inserted_at) AS latest_write
FROM earshot.matches_dedup
