package match

import (
	"fmt"
	"strings"
	"sync"

	"github.com/earshot-dev/earshot/post"
)

// originsCapacity bounds the posts whose source the match stage remembers:
// about 100 bytes each, so 200,000 are some 20 MB (as route's memory of
// raised alerts, which it outlives: posts are partitioned by key).
const originsCapacity = 200_000

// origins remembers which source (post.Post.Source: the connector or push
// tenant) delivered each post the stage passed on, so that a delete or an
// edit of it from another source is refused: one ingest tenant must not
// retract, rewrite or hide what another delivered. Two generations of a
// map, the older dropped whole when the newer is full: bounded, and a
// lookup is a map read. A post older than that (or delivered before a
// restart) is not remembered, and a change of it goes on unchecked; route
// checks the alerts it remembers the same way.
type origins struct {
	mu        sync.Mutex
	half      int
	cur, prev map[string]string
	sources   map[string]string // interned: few sources, many posts
}

func newOrigins(capacity int) *origins {
	half := max(1, capacity/2)
	return &origins{half: half, cur: make(map[string]string), prev: map[string]string{}, sources: map[string]string{}}
}

// check returns the remembered origin of key and whether source may change
// the post (it is the origin, or none is remembered). With remember, an
// allowed source becomes the origin when none was remembered.
func (o *origins) check(key, source string, remember bool) (origin string, allowed bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	origin, ok := o.cur[key]
	if !ok {
		if origin, ok = o.prev[key]; ok && post.SameSource(origin, source) && remember {
			o.put(key, origin) // still in use: keep it into the next generation
		}
	}
	if ok {
		return origin, post.SameSource(origin, source)
	}
	if remember {
		s, ok := o.sources[source]
		if !ok {
			s = strings.Clone(source)
			if len(o.sources) < 1024 {
				o.sources[s] = s
			}
		}
		o.put(strings.Clone(key), s)
	}
	return "", true
}

func (o *origins) put(key, source string) {
	if len(o.cur) >= o.half {
		o.prev, o.cur = o.cur, make(map[string]string, o.half)
	}
	o.cur[key] = source
}

func (o *origins) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.cur) + len(o.prev)
}

// foreign is the dead letter of a change refused for its source.
func foreign(it *post.Item, key, origin string) post.Rejected {
	what := it.Post.Kind
	if what == "" {
		what = "post"
	}
	return post.Rejected{Item: it, Reason: fmt.Sprintf("%s of %s from source %q refused: the post came from %q, and only the source that delivered a post may delete or change it",
		what, key, it.Post.Source, origin), Class: post.ClassForeignSource}
}
