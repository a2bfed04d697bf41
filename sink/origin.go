package sink

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/earshot-dev/earshot/post"
)

// refuseForeign takes out of items and deletes the changes (deletes, and
// edits) of stored posts that come from another source than the stored
// post's, each as a dead letter with the reason: one ingest tenant must not
// hide or rewrite what another delivered. The match stage refuses them
// first, from what it remembers; this holds after it forgot (a restart, an
// old post), from what ClickHouse holds. A change of a post that is not
// stored goes on (there is nothing to protect, and the post may come later
// from the same source). It costs one query per batch that has changes.
func (s *Sink) refuseForeign(ctx context.Context, items, deletes []*post.Item) (keptItems, keptDeletes []*post.Item, rejected []post.Rejected, err error) {
	var keys []string
	seen := map[string]bool{}
	for _, list := range [][]*post.Item{items, deletes} {
		for _, it := range list {
			if k := it.Key(); (it.Post.Kind == post.KindEdit || it.Post.Kind == post.KindDelete) && !seen[k] {
				seen[k] = true
				keys = append(keys, quote(k))
			}
		}
	}
	if len(keys) == 0 {
		return items, deletes, nil, nil
	}
	stored := make(map[string]string, len(keys))
	err = s.queryKeys(ctx, "SELECT post_key, source FROM "+s.db+".posts FINAL WHERE post_key IN (", keys, ")", func(rows driver.Rows) error {
		var key, source string
		if err := rows.Scan(&key, &source); err != nil {
			return err
		}
		stored[key] = source
		return nil
	})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("reading the sources of changed posts: %w", err)
	}
	keep := func(list []*post.Item) []*post.Item {
		out := list[:0:0]
		for _, it := range list {
			k := it.Key()
			origin, ok := stored[k]
			if ok && (it.Post.Kind == post.KindEdit || it.Post.Kind == post.KindDelete) && !post.SameSource(origin, it.Post.Source) {
				rejected = append(rejected, post.Rejected{Item: it, Reason: fmt.Sprintf("sink: %s of %s from source %q refused: the stored post came from %q, and only the source that delivered a post may delete or change it",
					it.Post.Kind, k, it.Post.Source, origin), Class: post.ClassForeignSource})
				continue
			}
			out = append(out, it)
		}
		return out
	}
	return keep(items), keep(deletes), rejected, nil
}
