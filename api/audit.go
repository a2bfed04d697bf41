package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/internal/durable"
	"github.com/earshot-dev/earshot/sink"
	"github.com/earshot-dev/earshot/watchlist"
)

// AuditRecord is one change: who, what, before and after, when.
type AuditRecord struct {
	At         time.Time       `json:"at"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	Action     string          `json:"action"`      // e.g. watchlist.approve, token.create
	ObjectType string          `json:"object_type"` // watchlist, token, routing_policy, role
	ObjectID   string          `json:"object_id"`
	Before     json.RawMessage `json:"before,omitempty"` // the object before, as JSON (absent when created)
	After      json.RawMessage `json:"after,omitempty"`  // … after (absent when deleted)
	RequestID  string          `json:"request_id,omitempty"`
}

// Audit is the append-only audit log: one JSON line per change in
// <state_dir>/audit.jsonl, synced before the change is answered. The file is
// the durable record; Ship copies it to ClickHouse.
type Audit struct {
	path string
	now  func() time.Time

	mu sync.Mutex
	f  *os.File
}

// AuditFile is the audit log's name under the state directory.
const AuditFile = "audit.jsonl"

// OpenAudit opens (creating) the audit log in dir.
func OpenAudit(dir string) (*Audit, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	path := filepath.Join(dir, AuditFile)
	// Read as well as append: Write reads the last byte back.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return &Audit{path: path, now: time.Now, f: f}, nil
}

// Path is the audit log's file.
func (a *Audit) Path() string { return a.path }

// Write appends one record (one write of one line, so appends of other
// processes — `earshot token` — do not interleave within it) and syncs.
//
// A write cut short (a full disk, a power cut; by this process or another)
// leaves a fragment without its newline. The record then starts with a
// newline of its own, so that it is not glued to the fragment into one line
// that no reader can parse (the fragment alone is skipped, as a torn line
// is; a blank line is skipped too, should another process end the file
// between the check and the write).
func (a *Audit) Write(rec AuditRecord) error {
	if rec.At.IsZero() {
		rec.At = a.now()
	}
	rec.At = rec.At.UTC()
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	torn, err := a.torn()
	if err != nil {
		return fmt.Errorf("audit: reading %s: %w", a.path, err)
	}
	if torn {
		line = append([]byte{'\n'}, line...)
	}
	if _, err := a.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("audit: writing %s: %w", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("audit: syncing %s: %w", a.path, err)
	}
	return nil
}

// torn reports whether the log ends in the middle of a line.
func (a *Audit) torn() (bool, error) {
	st, err := a.f.Stat()
	if err != nil || st.Size() == 0 {
		return false, err
	}
	last := make([]byte, 1)
	if _, err := a.f.ReadAt(last, st.Size()-1); err != nil {
		return false, err
	}
	return last[0] != '\n', nil
}

// Close closes the file.
func (a *Audit) Close() error { return a.f.Close() }

// ReadAuditFile reads the records of the log at path that keep(r) selects,
// oldest first, skipping the first skip of them and returning at most max.
// A torn last line (a writer mid-append) is left out.
func ReadAuditFile(path string, keep func(AuditRecord) bool, skip, max int) ([]AuditRecord, bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var out []AuditRecord
	for sc.Scan() {
		var r AuditRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil || !keep(r) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(out) == max {
			return out, true, nil
		}
		out = append(out, r)
	}
	return out, false, sc.Err()
}

// AuditTable is where the audit log is shipped; *sink.AuditTable is one
// (sink owns every ClickHouse table).
type AuditTable interface {
	Insert(ctx context.Context, rows []sink.AuditRow) error
}

// Shipper copies the audit log to ClickHouse's audit_log table. It reads
// from a checkpoint (the byte offset shipped so far, in audit.shipped) and
// advances it only after an insert succeeded, so nothing is lost while
// ClickHouse is down, and a crash between the insert and the checkpoint
// only inserts rows again that the table's ReplacingMergeTree key
// (object_type, object_id, at, request_id) folds together.
type Shipper struct {
	Table    AuditTable
	Path     string // the audit log
	Interval time.Duration
	Log      *slog.Logger
	Batch    int // records per insert; 0 = 1000
}

func (s *Shipper) checkpoint() string {
	return s.Path[:len(s.Path)-len(filepath.Ext(s.Path))] + ".shipped"
}

// Offset is the byte offset shipped so far.
func (s *Shipper) Offset() (int64, error) {
	data, err := os.ReadFile(s.checkpoint())
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	off, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || off < 0 {
		// A torn or edited checkpoint never heals by retrying.
		return 0, fmt.Errorf("%s is not a byte offset: remove it to ship the whole log again (the table folds the repeats)", s.checkpoint())
	}
	return off, nil
}

// Run ships every Interval until ctx ends, then once more.
func (s *Shipper) Run(ctx context.Context) error {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	failing := false
	for {
		n, err := s.ShipOnce(ctx)
		switch {
		case err != nil && !failing:
			s.Log.Warn("shipping the audit log to ClickHouse; the file keeps every record, retrying", "err", err)
			failing = true
		case err == nil && failing:
			s.Log.Info("audit log shipping resumed", "records", n)
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ShipOnce ships what was appended since the checkpoint and returns how
// many records it shipped.
func (s *Shipper) ShipOnce(ctx context.Context) (int, error) {
	off, err := s.Offset()
	if err != nil {
		return 0, fmt.Errorf("audit checkpoint: %w", err)
	}
	f, err := os.Open(s.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() < off {
		// Rotated in place (copytruncate), restored or replaced: seeking
		// past its end would read nothing until it grew past off, then
		// start mid-line. Ship it all again; the table folds repeats.
		s.Log.Warn("audit log: the file is shorter than what was shipped from it; shipping it again from the start", "file", s.Path, "size", st.Size(), "shipped", off)
		off = 0
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	batch := s.Batch
	if batch <= 0 {
		batch = 1000
	}
	r := bufio.NewReaderSize(f, 64<<10)
	total := 0
	for {
		var recs []AuditRecord
		var size int64
		for len(recs) < batch {
			line, err := r.ReadBytes('\n')
			if err != nil { // io.EOF: a torn or absent last line waits for its newline
				break
			}
			size += int64(len(line))
			var rec AuditRecord
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			if err := json.Unmarshal(line, &rec); err != nil {
				s.Log.Error("audit log: a line that is not a record is skipped (it stays in the file)", "offset", off+size-int64(len(line)), "err", err)
				continue
			}
			recs = append(recs, rec)
		}
		if size == 0 {
			return total, nil
		}
		if len(recs) > 0 {
			if err := s.insert(ctx, recs); err != nil {
				return total, err
			}
		}
		off += size
		if err := durable.WriteFile(s.checkpoint(), []byte(strconv.FormatInt(off, 10)+"\n"), 0o600); err != nil {
			return total, fmt.Errorf("audit checkpoint: %w", err)
		}
		total += len(recs)
	}
}

func (s *Shipper) insert(ctx context.Context, recs []AuditRecord) error {
	rows := make([]sink.AuditRow, len(recs))
	for i, r := range recs {
		rows[i] = sink.AuditRow{At: r.At, Actor: r.Actor, Role: r.Role, Action: r.Action, ObjectType: r.ObjectType, ObjectID: r.ObjectID,
			Before: string(r.Before), After: string(r.After), RequestID: r.RequestID}
	}
	return s.Table.Insert(ctx, rows)
}

// WatchlistHook is a watchlist.Options.OnChange that writes every change of
// the store to the audit log, for the processes that change the store
// outside the API (earshot watchlist …). The API writes its own records,
// with the caller's role and the request id; do not give it this hook too.
// A record that cannot be written is logged at error level: the change is
// durable in the store's own history either way.
func WatchlistHook(a *Audit, role string, log *slog.Logger) func(watchlist.Change) {
	return func(c watchlist.Change) {
		rec := AuditRecord{At: c.At, Actor: c.Actor, Role: role, Action: "watchlist." + c.Action, ObjectType: "watchlist", ObjectID: c.ID}
		if c.Before != nil {
			rec.Before = rawJSON(c.Before)
		}
		if c.After != nil {
			rec.After = rawJSON(c.After)
		}
		if err := a.Write(rec); err != nil {
			log.Error("audit record lost", "action", rec.Action, "watchlist", c.ID, "err", err)
		}
	}
}
