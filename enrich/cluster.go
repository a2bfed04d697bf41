package enrich

import (
	"container/list"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/earshot-dev/earshot/post"
)

// Near-duplicate clustering: a 64-bit SimHash of the post's normalised
// words (and word pairs); two posts whose hashes differ in at most
// clusterMaxDistance bits are copies. Hashes are indexed by four 16-bit
// bands: two hashes within 3 bits agree on at least one band.
const (
	clusterMaxDistance = 3
	clusterMinWords    = 4 // shorter posts cluster only when identical
)

type cluster struct {
	id      string
	hash    uint64
	last    time.Time
	size    int
	members map[string]struct{} // post keys counted, so a redelivered post does not grow the cluster
	elem    *list.Element
}

// maxClusterMembers bounds the post keys a cluster remembers; past it,
// posts are counted without checking for redelivery.
const maxClusterMembers = 1000

// clusterer remembers recent clusters in a sliding window of post time,
// bounded in count; the least recently seen are forgotten first. One
// mutex: the work under it is a few map operations per post.
type clusterer struct {
	mu       sync.Mutex
	window   time.Duration
	capacity int
	now      time.Time // the latest post time seen
	lru      *list.List
	bands    [4]map[uint16][]*cluster
}

func newClusterer(window time.Duration, capacity int) *clusterer {
	c := &clusterer{window: window, capacity: capacity, lru: list.New()}
	for i := range c.bands {
		c.bands[i] = map[uint16][]*cluster{}
	}
	return c
}

// fnv64 is FNV-1a, inline to avoid allocating a hash.Hash per word.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// simhash hashes normalised words and word pairs: bit b is set when most
// features' hashes have it set. The bits are counted eight at a time:
// byte lane i of ones[k] counts bit 8i+k of the features' hashes (a
// shift, a mask and an add per eight bits), moved to the per-bit counts
// every 255 features, before a lane can overflow.
func simhash(ws []string) uint64 {
	const lanes = 0x0101010101010101
	var ones [8]uint64
	var total [64]int
	n, pending := 0, 0
	add := func(x uint64) {
		for k := range ones {
			ones[k] += x >> k & lanes
		}
		n++
		if pending++; pending == 255 {
			spill(&ones, &total)
			pending = 0
		}
	}
	var prev uint64
	for i, w := range ws {
		x := fnv64(w)
		add(x)
		if i > 0 {
			add((prev*31 + x) * 0x9e3779b97f4a7c15) // the word pair
		}
		prev = x
	}
	spill(&ones, &total)
	var h uint64
	for b := range 64 {
		if 2*total[b] > n {
			h |= 1 << b
		}
	}
	return h
}

// spill adds the byte lanes of ones to the per-bit counts and empties them.
func spill(ones *[8]uint64, total *[64]int) {
	for k, c := range ones {
		for i := range 8 {
			total[8*i+k] += int(c >> (8 * i) & 0xff)
		}
		ones[k] = 0
	}
}

// cluster assigns the post to the cluster of its near-duplicates in the
// window, or starts one named after the post.
func (e *Enricher) cluster(p *post.Post, en *post.Enrichment, sc *wordsScratch) {
	words := sc.words
	if t := untagged(p.Text); t != "" {
		// Copies that differ only in the hashtags tacked on at the end are
		// one cluster, named alike whichever copy comes first.
		sc.untagged, sc.ubuf = appendIntentWords(sc.untagged[:0], sc.ubuf, t)
		words = sc.untagged
	}
	if len(words) > 1 && words[0] == "rt" {
		// "RT @x: …" is a repost: the mention is skipped already, and without
		// the "rt" it hashes as the original, so a process whose first copy
		// is a repost names the cluster as one whose first is the original.
		words = words[1:]
	}
	n := len(words)
	if n == 0 {
		return
	}
	h := simhash(words)
	maxDist := clusterMaxDistance
	if n < clusterMinWords {
		maxDist = 0
	}
	// the post's key (p.Key()) in a buffer on the stack: it is looked up
	// for every post but made a string only when a cluster remembers it
	var kb [128]byte
	key := append(append(append(kb[:0], p.Platform...), ':'), p.ID...)
	en.ClusterID, en.ClusterSize = e.clusters.add(h, maxDist, postTime(p), key)
}

// untagged is text without its trailing hashtags (and the mentions, links
// and emoji among them), or "" when it ends in no hashtag or is nothing
// but tags.
func untagged(text string) string {
	t, cut := text, false
	for {
		t = strings.TrimRightFunc(t, unicode.IsSpace)
		i := strings.LastIndexFunc(t, unicode.IsSpace) + 1
		tok := t[i:]
		switch {
		case tok == "":
			return ""
		case skipToken(tok) > 0:
			cut = cut || tok[0] == '#'
		case strings.IndexFunc(tok, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0:
		default:
			if !cut {
				return ""
			}
			return t
		}
		t = t[:i]
	}
}

// add puts a post of hash h, time t and key into the cluster of its
// near-duplicates or a new one. key is not kept (copied when remembered).
func (c *clusterer) add(h uint64, maxDist int, t time.Time, key []byte) (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
	c.expire()
	var found *cluster
	best := maxDist + 1
	for i := range c.bands {
		for _, cl := range c.bands[i][band(h, i)] {
			if d := bits.OnesCount64(cl.hash ^ h); d < best {
				found, best = cl, d
			}
		}
	}
	if found != nil {
		if _, seen := found.members[string(key)]; seen {
			return found.id, found.size // a redelivery: the same answer as the first time, or later
		}
		if len(found.members) < maxClusterMembers {
			found.members[string(key)] = struct{}{}
		}
		found.size++
		if t.After(found.last) {
			found.last = t
		}
		c.lru.MoveToBack(found.elem)
		return found.id, found.size
	}
	cl := &cluster{id: clusterID(h, t, c.window), hash: h, last: t, size: 1, members: map[string]struct{}{string(key): {}}}
	cl.elem = c.lru.PushBack(cl)
	for i := range c.bands {
		b := band(h, i)
		c.bands[i][b] = append(c.bands[i][b], cl)
	}
	for c.lru.Len() > c.capacity {
		c.remove(c.lru.Front().Value.(*cluster))
	}
	return cl.id, 1
}

// clusterID names a cluster after its first post's content and the window
// of post time it falls in (post time divided by the cluster window), not
// after the post's key: enrich processes sharing a stream (each with its
// own clusters, the posts partitioned over them by key) then give one
// incident the same id when their first copies of it hash alike and fall
// in the same window, so the router raises one incident alert, not one
// per process. A cluster started again after it expired is at least a
// window later, so it gets a new id.
func clusterID(h uint64, t time.Time, window time.Duration) string {
	w := int64(window / time.Second)
	if w < 1 {
		w = 1
	}
	s := t.Unix()
	b := s / w
	if s < 0 && s%w != 0 {
		b-- // floor, for posts before 1970
	}
	x := h
	for range 8 { // mix the window number into the hash, FNV-1a bytewise
		x ^= uint64(b & 0xff)
		x *= 1099511628211
		b >>= 8
	}
	return strconv.FormatUint(x, 36)
}

func band(h uint64, i int) uint16 { return uint16(h >> (16 * i)) }

// expire forgets clusters not seen within the window of the latest post.
func (c *clusterer) expire() {
	for c.lru.Len() > 0 {
		cl := c.lru.Front().Value.(*cluster)
		if c.now.Sub(cl.last) <= c.window {
			return
		}
		c.remove(cl)
	}
}

func (c *clusterer) remove(cl *cluster) {
	c.lru.Remove(cl.elem)
	for i := range c.bands {
		b := band(cl.hash, i)
		s := c.bands[i][b]
		for j, x := range s {
			if x == cl {
				s[j] = s[len(s)-1]
				s = s[:len(s)-1]
				break
			}
		}
		if len(s) == 0 {
			delete(c.bands[i], b)
		} else {
			c.bands[i][b] = s
		}
	}
}

// len reports the clusters remembered.
func (c *clusterer) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
