package match

import "github.com/earshot-dev/earshot/post"

// MayMatch reports whether a post whose text occurs, byte for byte, in raw
// (say, the undecoded input line that carries it) could match any watchlist:
// false only when no keyword of any watchlist occurs in raw, and a rule is
// only evaluated for a post in which one of its keywords occurs, so then no
// watchlist matches the post. raw's other bytes (field names, ids, other
// fields) can only add keyword hits, never hide one, as long as the text is
// in raw unescaped: the caller makes sure of that (ingest.Filter checks the
// line has no JSON escape, HTML entity or character the decoder removes).
// Over the work budget it says true: the full match decides.
func (e *Engine) MayMatch(raw string) bool {
	s := e.getScratch()
	defer e.pool.Put(s)
	e.match(nil, &post.Post{Text: raw}, s)
	return len(s.hitTerms) > 0 || s.work > e.maxWork
}
