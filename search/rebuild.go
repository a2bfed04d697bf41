package search

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
)

// ErrOldAnalysis is returned for a shard written with another text
// analysis (mappingVersion) that a read-only index cannot rebuild.
var ErrOldAnalysis = errors.New("the shard was written with an older text analysis")

// ownerOnly takes group and others' access off what bleve created at path
// (it writes index_meta.json readable by all): a shard holds posts' text.
func ownerOnly(path string) error {
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if m := info.Mode().Perm(); m&0o077 != 0 {
			return os.Chmod(p, m&^0o077)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("making %s owner-only: %w", path, err)
	}
	return nil
}

// newShard creates a shard at path, recording its analysis version.
func (x *Index) newShard(path string, rc map[string]any) (bleve.Index, error) {
	s, err := bleve.NewUsing(path, x.mapping, scorch.Name, scorch.Name, maps.Clone(rc))
	if err != nil {
		return nil, err
	}
	if err := ownerOnly(path); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.SetInternal([]byte(mappingVersionKey), []byte(mappingVersion)); err != nil {
		s.Close()
		return nil, fmt.Errorf("recording the analysis version: %w", err)
	}
	return s, nil
}

// current returns shard s of day, opened at path, when its analysis is
// this one's. A shard written with another analysis holds terms a search
// no longer looks for: it is rebuilt from the posts it stores, or, when the
// index is read-only, refused with the reason.
func (x *Index) current(day, path string, s bleve.Index, rc map[string]any) (bleve.Index, error) {
	v, err := s.GetInternal([]byte(mappingVersionKey))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("reading the analysis version: %w", err)
	}
	if string(v) == mappingVersion {
		return s, nil
	}
	if v == nil {
		v = []byte("1")
	}
	if x.opt.ReadOnly {
		s.Close()
		return nil, fmt.Errorf("%w (version %s, this earshot reads %s): start the pipeline once, which rebuilds it, or delete %s", ErrOldAnalysis, v, mappingVersion, path)
	}
	x.log.Warn("rebuilding a shard written with an older text analysis", "day", day, "version", string(v), "now", mappingVersion)
	n, err := x.rebuild(path, s, rc)
	if err != nil {
		x.m.errors.WithLabelValues("rebuild").Inc()
		return nil, fmt.Errorf("rebuilding it with text analysis version %s: %w", mappingVersion, err)
	}
	x.log.Info("shard rebuilt", "day", day, "posts", n)
	return bleve.OpenUsing(path, maps.Clone(rc)) // (bleve writes into the map it is given)
}

// rebuild re-indexes the stored posts of old (at path, which it closes)
// into a new shard that then replaces it. Until the last rename the old
// shard is left as it was, so a crash midway loses nothing: the rebuild
// starts again on the next open.
func (x *Index) rebuild(path string, old bleve.Index, rc map[string]any) (int, error) {
	tmp := path + ".rebuild"
	if err := os.RemoveAll(tmp); err != nil {
		old.Close()
		return 0, err
	}
	ns, err := bleve.NewUsing(tmp, x.mapping, scorch.Name, scorch.Name, maps.Clone(rc))
	if err != nil {
		old.Close()
		return 0, err
	}
	if err := ownerOnly(tmp); err != nil {
		ns.Close()
		old.Close()
		return 0, err
	}
	n, err := x.copyStored(old, ns)
	if cerr := old.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Recorded last: a rebuild cut short has no version and is redone.
		err = ns.SetInternal([]byte(mappingVersionKey), []byte(mappingVersion))
	}
	if cerr := ns.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.RemoveAll(tmp)
		return 0, err
	}
	gone := path + ".old"
	if err := os.RemoveAll(gone); err != nil {
		return 0, err
	}
	if err := os.Rename(path, gone); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Rename(gone, path) // put the old one back: it is rebuilt next time
		return 0, err
	}
	return n, os.RemoveAll(gone)
}

// copyStored indexes every post stored in from into to.
func (x *Index) copyStored(from, to bleve.Index) (int, error) {
	adv, err := from.Advanced()
	if err != nil {
		return 0, err
	}
	r, err := adv.Reader()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	b, n := to.NewBatch(), 0
	err = scanShard(context.Background(), r, func(st *Stored) error {
		d, err := x.docs.docOf(st.Platform+":"+st.ID, st, st.Lang)
		if err == nil {
			err = b.IndexAdvanced(d)
		}
		if err != nil {
			return err
		}
		if n++; b.Size() >= 1000 {
			if err := to.Batch(b); err != nil {
				return err
			}
			b = to.NewBatch()
		}
		return nil
	})
	if err == nil && b.Size() > 0 {
		err = to.Batch(b)
	}
	return n, err
}

// finishRebuilds puts right what a rebuild cut short left: a shard moved
// aside (DAY.old) without its replacement in place goes back, to be
// rebuilt again; a half-built replacement (DAY.rebuild) and a shard moved
// aside whose replacement is in place are removed.
func (x *Index) finishRebuilds() {
	entries, err := os.ReadDir(x.cfg.Dir)
	if err != nil {
		return // listDays reports it
	}
	for _, e := range entries {
		day, old := strings.CutSuffix(e.Name(), ".old")
		if !old {
			if day, ok := strings.CutSuffix(e.Name(), ".rebuild"); ok {
				x.log.Warn("removing a shard rebuild cut short", "day", day)
				os.RemoveAll(filepath.Join(x.cfg.Dir, e.Name()))
			}
			continue
		}
		path := filepath.Join(x.cfg.Dir, day)
		if _, err := os.Stat(path); err == nil {
			os.RemoveAll(path + ".old")
			continue
		}
		x.log.Warn("a shard rebuild was cut short; the old shard is put back to be rebuilt", "day", day)
		if err := os.Rename(path+".old", path); err != nil {
			x.log.Error("putting back a shard moved aside by a rebuild", "day", day, "err", err)
		}
	}
}
