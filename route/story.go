package route

import (
	"container/list"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/post"
)

// storiesCapacity bounds the stories a route process counts at once; the
// oldest is forgotten first.
const storiesCapacity = 50_000

// maxStoryMembers bounds the post keys remembered per story; past it, posts
// are counted without checking for redelivery.
const maxStoryMembers = 10_000

// storyKey names the story a post belongs to under rule r: the watchlists
// and keywords that hit, and the window of its creation time.
func storyKey(it *post.Item, r *Rule) string {
	var wls, kws []string
	for _, m := range it.Matches {
		wls = append(wls, m.Watchlist)
		kws = append(kws, m.Keywords...)
	}
	slices.Sort(wls)
	slices.Sort(kws)
	window := r.StoryWindow
	if window == 0 {
		window = time.Hour
	}
	start := storyTime(it.Post, window).UTC().Truncate(window)
	return strings.Join(slices.Compact(wls), ",") + "|" + strings.Join(slices.Compact(kws), ",") + "|" + strconv.FormatInt(start.Unix(), 10)
}

// storyTime is the time that places p in a story's window: its creation,
// unless that is more than a window before its ingestion or after it. The
// poster sets created_at (a Bluesky record's createdAt is the client's
// word), and a story dated a day further back for each post would be as
// many stories, each paging; the ingest time is earshot's. Both are fixed
// in the item, so a redelivery lands in the same story. An edit keeps its
// creation time: it comes when the author edits, and its post's story
// (placed when the post came) is the one it belongs to.
func storyTime(p *post.Post, window time.Duration) time.Time {
	in := p.IngestedAt
	if p.Kind == post.KindEdit || in.IsZero() || !p.CreatedAt.Before(in.Add(-window)) && !p.CreatedAt.After(in) {
		return p.CreatedAt
	}
	return in
}

// clustersCapacity bounds the near-duplicate clusters a route process
// counts at once; the least recently grown is forgotten first.
const clustersCapacity = 50_000

// counts is what a route process counts incidents with: the posts of each
// story, and the posts of each near-duplicate cluster.
type counts struct{ stories, clusters *stories }

func newCounts(stories, clusters int) counts {
	c := counts{stories: newStories(stories), clusters: newStories(clusters)}
	c.clusters.recent = true
	return c
}

// stories counts the distinct posts of each story.
type stories struct {
	mu     sync.Mutex
	cap    int
	recent bool       // forget the least recently grown first, not the oldest
	order  *list.List // of story keys, oldest (or least recently grown) first
	byKey  map[string]*story
}

type story struct {
	e       *list.Element
	members map[string]struct{}
	n       int
}

func newStories(capacity int) *stories {
	return &stories{cap: capacity, order: list.New(), byKey: map[string]*story{}}
}

// add counts post in story and returns the story's size; a post counted
// before (a redelivery) does not grow it.
func (s *stories) add(key, post string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byKey[key]
	if st == nil {
		st = &story{e: s.order.PushBack(key), members: map[string]struct{}{}}
		s.byKey[key] = st
		for s.order.Len() > s.cap {
			delete(s.byKey, s.order.Remove(s.order.Front()).(string))
		}
	}
	if _, ok := st.members[post]; ok {
		return st.n
	}
	if s.recent {
		s.order.MoveToBack(st.e)
	}
	if len(st.members) < maxStoryMembers {
		st.members[post] = struct{}{}
	}
	st.n++
	return st.n
}
