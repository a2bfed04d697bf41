package watchlist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/match"
	"github.com/earshot-dev/earshot/stream"
	"github.com/earshot-dev/earshot/strictyaml"
)

const liveHeader = "# Written by the watchlist store (earshot watchlist approve); change it there, not here.\n"

// yamlOf is a revision as a watchlist file, status live.
func yamlOf(sp Spec, version int) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(liveHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	err := enc.Encode(liveFile{ID: sp.ID, Name: sp.Name, Team: sp.Team, Brand: sp.Brand, Regions: sp.Regions, Tags: sp.Tags,
		Priority: sp.Priority, Status: "live", Version: version, Rule: sp.Rule, Keywords: sp.Keywords, Exclude: sp.Exclude})
	if err == nil {
		err = enc.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("watchlist %s: %w", sp.ID, err)
	}
	return buf.Bytes(), nil
}

// emptyFile stands in for an empty live set: match.LoadDir refuses an empty
// directory, and a matcher must see that the last list was paused.
const emptyFile = "_none.yaml"

var emptyBody = []byte(liveHeader + "# No watchlist is live; this paused stand-in keeps the directory loadable.\nid: none\nstatus: paused\nkeywords: [none]\n")

// liveFiles names the files of a live set: <id>.yaml each.
func liveFiles(lists []*match.Watchlist) map[string][]byte {
	files := map[string][]byte{}
	for _, w := range lists {
		files[w.ID+".yaml"] = w.Source()
	}
	if len(files) == 0 {
		files[emptyFile] = emptyBody
	}
	return files
}

// writeLive makes LiveDir hold exactly files, all at once: the files go to
// a new sibling directory and LiveDir, a symbolic link, is swapped to it by
// a rename, so match.Watch never reads half a set. It reports whether
// anything changed. The two previous generations are kept for a reader
// still in them; older ones are removed.
//
// Most changes (an approval, a pause) change one file: that one is replaced
// in place, by a rename, which is as atomic and costs one file, not the set.
func (s *Store) writeLive(files map[string][]byte) (bool, error) {
	live := s.opt.LiveDir
	cur := s.liveCache
	if cur == nil {
		cur, _ = readLive(live) // nil if there is none yet
	}
	if cur != nil && maps.EqualFunc(cur, files, bytes.Equal) {
		s.liveCache = files
		return false, nil
	}
	s.liveCache = nil // unknown until written
	if cur != nil {
		if target, err := os.Readlink(live); err == nil {
			var diff []string
			for name, data := range files {
				if old, ok := cur[name]; !ok || !bytes.Equal(old, data) {
					diff = append(diff, name)
				}
			}
			for name := range cur {
				if _, ok := files[name]; !ok {
					diff = append(diff, name)
				}
			}
			if len(diff) == 1 {
				if !filepath.IsAbs(target) {
					target = filepath.Join(filepath.Dir(live), target)
				}
				var err error
				if data, ok := files[diff[0]]; ok {
					err = durable.WriteFile(filepath.Join(target, diff[0]), data, 0o644)
				} else if err = os.Remove(filepath.Join(target, diff[0])); err == nil {
					err = durable.SyncDir(target)
				}
				if err == nil {
					s.liveCache = files
					return true, nil
				}
				s.log.Warn("replacing one live watchlist failed; writing the whole set", "file", diff[0], "err", err)
			}
		}
	}
	info, err := os.Lstat(live)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("live watchlists: %w", err)
	case info.Mode()&fs.ModeSymlink == 0 && info.IsDir():
		// A real directory (say, made by hand): taken over only if empty.
		if err := os.Remove(live); err != nil {
			return false, fmt.Errorf("live watchlists: %s is a directory the store did not write; empty it or choose another live directory: %w", live, err)
		}
	case info.Mode()&fs.ModeSymlink == 0:
		return false, fmt.Errorf("live watchlists: %s exists and is not a directory", live)
	}
	parent, base := filepath.Dir(live), filepath.Base(live)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return false, fmt.Errorf("live watchlists: %w", err)
	}
	gen, err := os.MkdirTemp(parent, "."+base+"."+strconv.FormatInt(time.Now().UnixNano(), 10)+".")
	if err != nil {
		return false, fmt.Errorf("live watchlists: %w", err)
	}
	for name, data := range files {
		// Each file is synced before the link switches to its directory:
		// after a power cut the live set is the old one or the new one.
		if err := durable.WriteFile(filepath.Join(gen, name), data, 0o644); err != nil {
			os.RemoveAll(gen)
			return false, fmt.Errorf("live watchlists: %w", err)
		}
	}
	link := filepath.Join(parent, "."+base+".link")
	os.Remove(link)
	if err := os.Symlink(filepath.Base(gen), link); err != nil {
		os.RemoveAll(gen)
		return false, fmt.Errorf("live watchlists: %w", err)
	}
	if err := os.Rename(link, live); err != nil {
		os.RemoveAll(gen)
		return false, fmt.Errorf("live watchlists: %w", err)
	}
	if err := durable.SyncDir(parent); err != nil {
		s.log.Warn("syncing the live watchlists' directory", "err", err)
	}
	s.pruneLive(parent, base, filepath.Base(gen))
	s.liveCache = files
	return true, nil
}

// pruneLive removes old generations of the live directory but the newest two.
func (s *Store) pruneLive(parent, base, current string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return
	}
	var old []string
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), "."+base+".") && e.Name() != current {
			old = append(old, e.Name())
		}
	}
	slices.Sort(old) // by the time in the name
	for len(old) > 2 {
		if err := os.RemoveAll(filepath.Join(parent, old[0])); err != nil {
			s.log.Warn("removing an old live directory", "err", err)
		}
		old = old[1:]
	}
}

// readLive reads the YAML files of a live directory.
func readLive(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || !match.IsWatchlistFile(e.Name()) {
			continue
		}
		data, err := strictyaml.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = data
	}
	return out, nil
}

// KafkaPublisher is an Options.Publish that makes the compacted topic (the
// pipeline's <prefix>.watchlists) hold exactly the live set, for the
// matchers that follow it (match.follow: kafka).
func KafkaPublisher(k *stream.Kafka, topic string) func(context.Context, []match.Watchlist) error {
	return func(ctx context.Context, live []match.Watchlist) error {
		entries := map[string][]byte{}
		for _, w := range live {
			entries[w.ID] = w.Source()
		}
		if len(entries) == 0 {
			// As in the live directory: a matcher starting on an empty
			// topic refuses to, so the stand-in keeps it startable.
			entries["none"] = emptyBody
		}
		if err := k.EnsureTable(ctx, topic); err != nil {
			return err
		}
		_, _, err := k.PublishTable(ctx, topic, entries)
		return err
	}
}
