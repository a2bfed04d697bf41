package reload

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// rig watches one file whose contents must be "ok ..." to load.
type rig struct {
	t       *testing.T
	path    string
	loads   atomic.Int64 // Load calls
	inForce atomic.Value // the contents in force
	reg     *prometheus.Registry
	m       *Metrics
	logs    syncBuf
}

func newRig(t *testing.T, body string) *rig {
	r := &rig{t: t, path: filepath.Join(t.TempDir(), "policy.yaml"), reg: prometheus.NewRegistry()}
	r.m = NewMetrics(r.reg)
	r.write(body, time.Unix(1_800_000_000, 0))
	r.inForce.Store(body)
	last, err := Files(r.path)
	if err != nil {
		t.Fatal(err)
	}
	w := Watcher{What: "routing", Every: 5 * time.Millisecond, Metrics: r.m,
		Log: slog.New(slog.NewTextHandler(&r.logs, nil)),
		Sum: func() (Sum, error) { return Files(r.path) },
		Load: func() ([]any, error) {
			r.loads.Add(1)
			b, err := os.ReadFile(r.path)
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(string(b), "ok") {
				return nil, errors.New("invalid contents")
			}
			r.inForce.Store(string(b))
			return []any{"bytes", len(b)}, nil
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx, last); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return r
}

// write replaces the file's contents (by a rename, so that the watcher
// sees the whole new contents or none) with modification time mod.
func (r *rig) write(body string, mod time.Time) {
	r.t.Helper()
	tmp := r.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Chtimes(tmp, mod, mod); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Rename(tmp, r.path); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) count(result string) float64 {
	return testutil.ToFloat64(r.m.reloads.WithLabelValues("routing", result))
}

func (r *rig) waitFor(what string, ok func() bool) {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("waiting for %s; log:\n%s", what, r.logs.String())
		}
	}
}

// settle lets the watcher look several times.
func settle() { time.Sleep(60 * time.Millisecond) }

func TestTouchWithoutChangeReloadsNothing(t *testing.T) {
	r := newRig(t, "ok v1\n")
	r.write("ok v1\n", time.Now().Add(time.Hour)) // same bytes, new time
	settle()
	if n := r.loads.Load(); n != 0 {
		t.Fatalf("%d loads after a touch, want 0", n)
	}
	if r.count("ok") != 0 || r.count("error") != 0 {
		t.Errorf("reloads counted for a touch: ok=%v error=%v", r.count("ok"), r.count("error"))
	}
}

func TestSameSizeAndTimeButNewContentsReloads(t *testing.T) {
	// What a stat-based watcher misses: an edit in place within the
	// file system's time granularity, keeping the size.
	r := newRig(t, "ok v1\n")
	fi, _ := os.Stat(r.path)
	r.write("ok v2\n", fi.ModTime())
	if fi2, _ := os.Stat(r.path); fi2.Size() != fi.Size() || !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatal("the rig did not keep size and time")
	}
	r.waitFor("the reload", func() bool { return r.inForce.Load() == "ok v2\n" })
	if r.count("ok") != 1 {
		t.Errorf("ok reloads %v, want 1", r.count("ok"))
	}
	if testutil.ToFloat64(r.m.ok.WithLabelValues("routing")) != 1 {
		t.Error("last reload not marked successful")
	}
}

func TestInvalidContentsKeepWhatIsInForce(t *testing.T) {
	r := newRig(t, "ok v1\n")
	r.write("ok v2\n", time.Now())
	r.waitFor("v2", func() bool { return r.inForce.Load() == "ok v2\n" })
	r.write("o", time.Now()) // half written: the first byte of "ok v3"
	r.waitFor("the error", func() bool { return r.count("error") == 1 })
	settle()
	if got := r.inForce.Load(); got != "ok v2\n" {
		t.Fatalf("in force %q after invalid contents", got)
	}
	if r.count("error") != 1 || r.loads.Load() != 2 {
		t.Errorf("invalid contents reported %v times, loaded %d times; want once each (not every interval)", r.count("error"), r.loads.Load())
	}
	if testutil.ToFloat64(r.m.ok.WithLabelValues("routing")) != 0 {
		t.Error("last reload still marked successful")
	}
	if !strings.Contains(r.logs.String(), "do not load") || !strings.Contains(r.logs.String(), "invalid contents") {
		t.Errorf("not logged:\n%s", r.logs.String())
	}
	r.write("ok v3\n", time.Now())
	r.waitFor("v3", func() bool { return r.inForce.Load() == "ok v3\n" })
	r.waitFor("success marked", func() bool { return testutil.ToFloat64(r.m.ok.WithLabelValues("routing")) == 1 })
}

func TestUnreadableFilesAreCountedAndKept(t *testing.T) {
	r := newRig(t, "ok v1\n")
	if err := os.Remove(r.path); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the read error", func() bool { return r.count("error") >= 1 })
	if r.loads.Load() != 0 || r.inForce.Load() != "ok v1\n" {
		t.Error("a missing file was loaded")
	}
	r.write("ok v1\n", time.Now())
	r.waitFor("success marked again", func() bool { return testutil.ToFloat64(r.m.ok.WithLabelValues("routing")) == 1 })
	if r.loads.Load() != 0 {
		t.Error("the same contents back reloaded")
	}
}

func TestDirSumsNamesAndContents(t *testing.T) {
	dir := t.TempDir()
	yaml := func(n string) bool { return strings.HasSuffix(n, ".yaml") }
	put := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	put("a.yaml", "x")
	s1, err := Dir(dir, yaml)
	if err != nil {
		t.Fatal(err)
	}
	put("notes.txt", "ignored")
	if s, _ := Dir(dir, yaml); s != s1 {
		t.Error("a file keep refuses changed the sum")
	}
	put("a.yaml", "y")
	s2, _ := Dir(dir, yaml)
	if s2 == s1 {
		t.Error("new contents, same sum")
	}
	os.Rename(filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"))
	if s, _ := Dir(dir, yaml); s == s2 {
		t.Error("a renamed file, same sum")
	}
	if _, err := Dir(filepath.Join(dir, "missing"), yaml); err == nil {
		t.Error("a missing directory summed")
	}
	// Moving bytes between a name and the contents changes the sum.
	d2 := t.TempDir()
	os.WriteFile(filepath.Join(d2, "ab.yaml"), []byte("c"), 0o644)
	d3 := t.TempDir()
	os.WriteFile(filepath.Join(d3, "a.yaml"), []byte("bc"), 0o644)
	x, _ := Dir(d2, func(string) bool { return true })
	y, _ := Dir(d3, func(string) bool { return true })
	if x == y {
		t.Error("name/contents boundary not in the sum")
	}
}

func TestObserveCountsAnotherReloader(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Observe("watchlists", errors.New("bad table"))
	if testutil.ToFloat64(m.reloads.WithLabelValues("watchlists", "error")) != 1 || testutil.ToFloat64(m.ok.WithLabelValues("watchlists")) != 0 {
		t.Error("a failed reload not counted")
	}
	m.Observe("watchlists", nil)
	if testutil.ToFloat64(m.reloads.WithLabelValues("watchlists", "ok")) != 1 || testutil.ToFloat64(m.ok.WithLabelValues("watchlists")) != 1 {
		t.Error("a reload not counted")
	}
	if n, err := testutil.GatherAndCount(reg, "earshot_config_reloads_total"); err != nil || n != 2 {
		t.Errorf("%d series of earshot_config_reloads_total (%v), want 2", n, err)
	}
}
