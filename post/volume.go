package post

import (
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KindVolume marks an item that carries volume counts instead of a post:
// its Post only names the record (platform "earshot", a content-derived id)
// and Volume holds the counts. Any stage other than the sink's volume
// reader passes such an item over as a post that matches nothing.
const KindVolume = "volume"

// MaxVolumePosts caps the post hashes in one volume item, so that a record
// stays well under Kafka's default 1 MB message size (about 21 bytes a hash
// in JSON).
const MaxVolumePosts = 20_000

// Volume counts the posts the match stage saw, matched or not: the
// denominator of share of voice. Each post is carried as a hash of its key
// rather than as a number, so the store can count distinct posts and a
// redelivered post is not counted twice (see docs/storage.md).
type Volume struct {
	Cells []VolumeCell `json:"cells"`
}

// VolumeCell is the posts of one minute (of their created_at, UTC), one
// platform and one platform-declared language ("" when none).
type VolumeCell struct {
	Minute   time.Time `json:"minute"`
	Platform string    `json:"platform"`
	Lang     string    `json:"lang"`
	Posts    []uint64  `json:"posts"` // PostHash of each post's key
}

// PostHash is the 64-bit FNV-1a hash of a post key.
func PostHash(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

type cellKey struct {
	minute         int64
	platform, lang string
}

// CountVolume returns the volume items for the posts among items: every
// post and edit (an edit is the same post again, and hashes the same), not
// deletes nor other volume items. Cells are in order of minute, platform,
// language; an item holds at most MaxVolumePosts hashes.
func CountVolume(items []*Item) []*Item {
	cells := map[cellKey][]uint64{}
	for _, it := range items {
		p := it.Post
		if p == nil || p.Kind == KindDelete || p.Kind == KindVolume {
			continue
		}
		k := cellKey{p.CreatedAt.UTC().Truncate(time.Minute).Unix(), p.Platform, p.Lang}
		cells[k] = append(cells[k], PostHash(p.Key()))
	}
	if len(cells) == 0 {
		return nil
	}
	keys := make([]cellKey, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b cellKey) int {
		if a.minute != b.minute {
			return int(a.minute - b.minute)
		}
		if c := strings.Compare(a.platform, b.platform); c != 0 {
			return c
		}
		return strings.Compare(a.lang, b.lang)
	})
	var out []*Item
	var cur *Volume
	n := 0
	flush := func() {
		if cur != nil {
			out = append(out, volumeItem(cur))
		}
		cur, n = &Volume{}, 0
	}
	flush()
	for _, k := range keys {
		hs := cells[k]
		for len(hs) > 0 {
			if n == MaxVolumePosts {
				flush()
			}
			take := min(len(hs), MaxVolumePosts-n)
			cur.Cells = append(cur.Cells, VolumeCell{Minute: time.Unix(k.minute, 0).UTC(), Platform: k.platform, Lang: k.lang, Posts: hs[:take]})
			hs, n = hs[take:], n+take
		}
	}
	if len(cur.Cells) > 0 {
		out = append(out, volumeItem(cur))
	}
	return out
}

// volumeItem wraps counts in an item whose key is derived from its content,
// so the records of a batch spread over a topic's partitions.
func volumeItem(v *Volume) *Item {
	h := fnv.New64a()
	var buf [8]byte
	for _, c := range v.Cells {
		for _, p := range c.Posts {
			for i := range buf {
				buf[i] = byte(p >> (8 * i))
			}
			h.Write(buf[:])
		}
	}
	first := v.Cells[0].Minute
	return &Item{
		Post:   &Post{Kind: KindVolume, Platform: "earshot", ID: "volume-" + strconv.FormatUint(h.Sum64(), 16), CreatedAt: first},
		Volume: v,
	}
}

// Validate checks a volume record.
func (v *Volume) Validate() error {
	if len(v.Cells) == 0 {
		return errors.New("volume record has no cells")
	}
	var errs []error
	for i, c := range v.Cells {
		switch {
		case c.Minute.IsZero() || !c.Minute.Equal(c.Minute.Truncate(time.Minute)):
			errs = append(errs, fmt.Errorf("volume cell %d: minute %v is not the start of a minute", i, c.Minute))
		case c.Platform == "":
			errs = append(errs, fmt.Errorf("volume cell %d: no platform", i))
		case len(c.Posts) == 0:
			errs = append(errs, fmt.Errorf("volume cell %d: no posts", i))
		}
	}
	return errors.Join(errs...)
}
