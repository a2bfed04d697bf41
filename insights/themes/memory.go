package themes

import (
	"cmp"
	"context"
	"hash/fnv"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Match is one watchlist's match of a post, as Memory keeps it.
type Match struct {
	Watchlist, Team, Region string
	Market                  string // org.yaml market, "" for none
}

// Memory is a Reader over posts held in memory, for tests, tools and
// measurements: storing a post again (a redelivery) replaces it, with the
// matches given then added to its own; Delete removes it for good, as a
// platform's delete does in the store. Safe for concurrent use.
type Memory struct {
	mu      sync.Mutex
	posts   map[string]*memPost
	deleted map[string]bool
}

type memPost struct {
	p       Post
	matches []Match
	hash    uint64
}

// Add stores p, caught by the given matches.
func (m *Memory) Add(p Post, ms ...Match) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.posts == nil {
		m.posts, m.deleted = map[string]*memPost{}, map[string]bool{}
	}
	if m.deleted[p.Key] {
		return
	}
	old := m.posts[p.Key]
	mp := &memPost{p: p, hash: keyHash(p.Key)}
	if old != nil {
		mp.matches = old.matches
	}
	for _, x := range ms {
		if !slices.Contains(mp.matches, x) {
			mp.matches = append(mp.matches, x)
		}
	}
	m.posts[p.Key] = mp
}

// Delete removes the post with this key, now and when it is stored again.
func (m *Memory) Delete(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.posts == nil {
		m.posts, m.deleted = map[string]*memPost{}, map[string]bool{}
	}
	delete(m.posts, key)
	m.deleted[key] = true
}

func keyHash(k string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(k))
	return mix(h.Sum64())
}

// mix is MurmurHash3's finaliser: FNV-1a alone barely moves the high
// bits of keys that differ in their last bytes (synthetic:7-1, -2, …),
// so a sample ordered by it would be a run of neighbours.
func mix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}

func (sc Scope) admits(x Match) bool {
	in := func(list []string, v string) bool { return len(list) == 0 || slices.Contains(list, v) }
	return in(sc.Watchlists, x.Watchlist) && in(sc.Teams, x.Team) && in(sc.Regions, x.Region) && in(sc.Markets, x.Market)
}

// Scan implements Reader: the sample is the posts with the smallest hashes
// (FNV-1a) of their keys.
func (m *Memory) Scan(ctx context.Context, sc Scope, from, to time.Time, max, maxText int, fn func(Post) error) (int64, error) {
	m.mu.Lock()
	var in []*memPost
	for _, mp := range m.posts {
		if mp.p.CreatedAt.Before(from) || !mp.p.CreatedAt.Before(to) {
			continue
		}
		if slices.ContainsFunc(mp.matches, sc.admits) {
			in = append(in, mp)
		}
	}
	m.mu.Unlock()
	slices.SortFunc(in, func(a, b *memPost) int { return cmp.Or(cmp.Compare(a.hash, b.hash), strings.Compare(a.p.Key, b.p.Key)) })
	total := int64(len(in))
	if len(in) > max {
		in = in[:max]
	}
	for _, mp := range in {
		p := mp.p
		p.Text = cut(p.Text, maxText)
		if err := fn(p); err != nil {
			return total, err
		}
	}
	return total, ctx.Err()
}

// cut returns s cut to at most n bytes, on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
