package search

import (
	"fmt"

	"github.com/earshot-dev/earshot/post"
)

// refuseForeign takes out of items the changes (deletes and edits) of
// posts that came from another source than the one that delivered them,
// each as a dead letter with the reason: one ingest tenant must not hide
// or rewrite what another delivered. The match stage refuses them first,
// from what it remembers; this holds after it forgot (a restart, an old
// post), from the source the index stored with the post (or an earlier
// item of the same batch). A change of a post the index does not hold, or
// holds without a source (indexed before sources were stored), goes on.
func (x *Index) refuseForeign(items []*post.Item) ([]*post.Item, []post.Rejected) {
	var (
		rejected []post.Rejected
		refused  map[*post.Item]bool
		batch    map[string]string // key -> source of posts earlier in the batch
	)
	for _, it := range items {
		if it == nil || it.Post == nil {
			continue
		}
		p := it.Post
		key := p.Key()
		if p.Kind != post.KindDelete && p.Kind != post.KindEdit {
			if p.Source != "" {
				if batch == nil {
					batch = map[string]string{}
				}
				if _, ok := batch[key]; !ok {
					batch[key] = p.Source
				}
			}
			continue
		}
		origin, ok := batch[key]
		if !ok {
			origin = x.sourceOf(key)
		}
		if origin == "" || post.SameSource(origin, p.Source) {
			continue
		}
		if refused == nil {
			refused = map[*post.Item]bool{}
		}
		refused[it] = true
		rejected = append(rejected, post.Rejected{Item: it, Reason: fmt.Sprintf("search index: %s of %s from source %q refused: the post came from %q, and only the source that delivered a post may delete or change it",
			p.Kind, key, p.Source, origin), Class: post.ClassForeignSource})
	}
	if rejected == nil {
		return items, nil
	}
	kept := make([]*post.Item, 0, len(items)-len(rejected))
	for _, it := range items {
		if !refused[it] {
			kept = append(kept, it)
		}
	}
	return kept, rejected
}

// sourceOf is the source stored with the indexed post key ("" when the
// index does not hold it, or holds it without one).
func (x *Index) sourceOf(key string) string {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, s := range x.shards {
		if st, ok := storedOf(s, key); ok {
			return st.Source
		}
	}
	return ""
}
