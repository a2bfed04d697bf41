// Package reload is the one way earshot reloads files it runs from (the
// watchlists, the routing policy and organisation): it looks at their
// contents every interval and reloads only when the contents changed. A
// touch, or a copy with the same bytes, reloads nothing; an edit that keeps
// the size and the modification time is still seen. Contents that do not
// load (a half-written or invalid file) are reported once, logged and
// counted, and what is in force keeps running until the next change.
package reload

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/strictyaml"
)

// Sum is a digest of the contents a Watcher watches.
type Sum [sha256.Size]byte

// Files sums the contents of the files, in the order given; an empty path
// is skipped. A file that cannot be read is an error.
func Files(paths ...string) (Sum, error) {
	h, buf := sha256.New(), make([]byte, 32<<10)
	for _, p := range paths {
		if p == "" {
			continue
		}
		if err := addFile(h, buf, p); err != nil {
			return Sum{}, err
		}
		h.Write([]byte{0})
	}
	return sum(h), nil
}

// Dir sums the names and contents of the files in dir (following a link
// to it) whose names keep accepts, in name order.
func Dir(dir string, keep func(name string) bool) (Sum, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return Sum{}, err
	}
	h, buf := sha256.New(), make([]byte, 32<<10)
	for _, e := range entries {
		if e.IsDir() || !keep(e.Name()) {
			continue
		}
		fmt.Fprintf(h, "%s\x00", e.Name())
		if err := addFile(h, buf, filepath.Join(dir, e.Name())); err != nil {
			return Sum{}, err
		}
		h.Write([]byte{0})
	}
	return sum(h), nil
}

func addFile(h hash.Hash, buf []byte, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	// Past strictyaml's bound a file does not load whatever it holds: the
	// sum reads no more, so a huge file costs a bounded read each interval.
	if _, err := io.CopyBuffer(h, io.LimitReader(f, strictyaml.MaxFileBytes+1), buf); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

func sum(h hash.Hash) (s Sum) {
	h.Sum(s[:0])
	return s
}

// Metrics counts the reloads of each thing watched (a bounded label: the
// Watcher's What).
type Metrics struct {
	reloads *prometheus.CounterVec
	ok      *prometheus.GaugeVec
}

// NewMetrics registers the reload metrics with reg (nil: not registered).
// Several parts of one process share them: call it once per registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "earshot_config_reloads_total",
			Help: "Reloads of changed files by what they hold (watchlists, routing) and result (ok, error: the contents did not load or could not be read, and what was in force kept running).",
		}, []string{"what", "result"}),
		ok: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "earshot_config_last_reload_successful",
			Help: "1 when the files last seen loaded (or were never changed), 0 when they did not and an older version is in force.",
		}, []string{"what"}),
	}
	if reg != nil {
		reg.MustRegister(m.reloads, m.ok)
	}
	return m
}

// Observe counts one reload of what that another kind of reloader made
// (the matcher following the Kafka table of watchlists), failed when err
// is not nil, so that the same metrics cover it.
func (m *Metrics) Observe(what string, err error) {
	if err != nil {
		m.reloads.WithLabelValues(what, "error").Inc()
		m.ok.WithLabelValues(what).Set(0)
		return
	}
	m.reloads.WithLabelValues(what, "ok").Inc()
	m.ok.WithLabelValues(what).Set(1)
}

// Watcher reloads one thing when the contents its Sum covers change.
type Watcher struct {
	What  string              // what is reloaded ("watchlists", "routing"): the log's component and the metrics' label
	Every time.Duration       // how often to look
	Sum   func() (Sum, error) // the contents now (Files, Dir)
	// Load reads the contents and puts them in force, or returns an error
	// and changes nothing. Its result describes what it loaded, for the log.
	Load    func() ([]any, error)
	Log     *slog.Logger // nil: discard
	Metrics *Metrics     // nil: none
}

// Run looks every w.Every until ctx ends, starting from the contents last
// (the Sum taken before the caller's first load; the zero Sum loads once
// more at the first look).
func (w Watcher) Run(ctx context.Context, last Sum) {
	log := w.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := w.Metrics
	if m == nil {
		m = NewMetrics(nil)
	}
	good := true // what is in force is what the files hold
	m.ok.WithLabelValues(w.What).Set(1)
	m.reloads.WithLabelValues(w.What, "ok")
	m.reloads.WithLabelValues(w.What, "error")
	t := time.NewTicker(w.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now, err := w.Sum()
		if err != nil {
			log.Warn("cannot read the files; keeping what is in force", "what", w.What, "err", err)
			m.reloads.WithLabelValues(w.What, "error").Inc()
			m.ok.WithLabelValues(w.What).Set(0)
			continue
		}
		if now == last {
			m.ok.WithLabelValues(w.What).Set(b2f(good))
			continue
		}
		last = now // report contents that do not load once, not every interval
		start := time.Now()
		attrs, err := w.Load()
		if err != nil {
			log.Error("the changed files do not load; keeping what is in force", "what", w.What, "err", err)
			good = false
			m.reloads.WithLabelValues(w.What, "error").Inc()
			m.ok.WithLabelValues(w.What).Set(0)
			continue
		}
		good = true
		m.reloads.WithLabelValues(w.What, "ok").Inc()
		m.ok.WithLabelValues(w.What).Set(1)
		log.Info("reloaded", append([]any{"what", w.What, "took", time.Since(start)}, attrs...)...)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
