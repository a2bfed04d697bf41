SELECT
    term,
    sum(mentions) AS total,
    uniqExact(day) AS days_seen
FROM earshot.terms_daily
WHERE watchlist = 'acme' AND day >= toDate(toDateTime(1792756800)) AND day <= toDate(toDateTime(1795348800))
GROUP BY term
ORDER BY total DESC, term
LIMIT 20
