package sink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/earshot-dev/earshot/post"
)

// table is one INSERT of a writer.
type table struct{ name, columns string }

// writer turns items into rows of one or more tables, inserted together.
type writer struct {
	tables []table
	label  string // the table label of its rejections and retries; tables[0] if ""
	// check refuses an item ClickHouse could not hold, before any row of
	// it is appended (a half-appended row would spoil the batch).
	check func(*post.Item) error
	// add appends an item's rows, one batch per table, and returns how
	// many rows it added.
	add func([]driver.Batch, *post.Item) (int, error)
	// columns, if set, appends all items column by column, which is
	// faster; add is then only used to find an item it cannot append.
	columns func([]driver.Batch, []*post.Item) (int, error)
	// together says the tables' inserts do not depend on each other's
	// order, so they are sent concurrently.
	together bool
}

// write inserts items and returns the ones ClickHouse will not take, each
// with the reason. An error means the write may succeed later (ClickHouse
// unreachable, slow, out of memory, …): the runner retries the whole batch,
// which the tables' deduplication makes safe. When ClickHouse rejects a
// batch for its data, the batch is cut in halves until the rows it rejects
// are found; those become dead letters and the rest is written.
func (s *Sink) write(ctx context.Context, w *writer, items []*post.Item) ([]post.Rejected, error) {
	var rejected []post.Rejected
	good := items[:0:0]
	for _, it := range items {
		if err := w.check(it); err != nil {
			rejected = append(rejected, s.reject(w, it, post.ClassOf(err, post.ClassInvalidField), err.Error()))
			continue
		}
		good = append(good, it)
	}
	more, err := s.insert(ctx, w, good)
	return append(rejected, more...), err
}

func (s *Sink) reject(w *writer, it *post.Item, class post.Class, reason string) post.Rejected {
	s.metrics.rejected.WithLabelValues(w.name()).Inc()
	s.log.Warn("ClickHouse cannot store an item; dead-lettered", "table", w.name(), "key", it.Key(), "reason", reason)
	return post.Rejected{Item: it, Reason: "sink: " + reason, Class: class}
}

func (s *Sink) insert(ctx context.Context, w *writer, items []*post.Item) ([]post.Rejected, error) {
	if len(items) == 0 {
		return nil, nil
	}
	err := s.send(ctx, w, items, false)
	var col *columnError
	if errors.As(err, &col) {
		// A column was refused: go row by row to find the item.
		err = s.send(ctx, w, items, true)
	}
	if err == nil {
		return nil, nil
	}
	var bad *badItem
	if errors.As(err, &bad) {
		// The driver refused a value: leave the item out and start over.
		rest := make([]*post.Item, 0, len(items)-1)
		for _, it := range items {
			if it != bad.item {
				rest = append(rest, it)
			}
		}
		more, err := s.insert(ctx, w, rest)
		return append([]post.Rejected{s.reject(w, bad.item, post.ClassStoreFailed, bad.err.Error())}, more...), err
	}
	if !Rejection(err) {
		return nil, err // counted as a retry by the stage (countRetries)
	}
	if len(items) == 1 {
		return []post.Rejected{s.reject(w, items[0], post.ClassStoreFailed, "ClickHouse rejected it: "+err.Error())}, nil
	}
	s.log.Info("ClickHouse rejected a batch for its data; cutting it in halves to find the rows", "table", w.name(), "rows", len(items), "err", err)
	half := len(items) / 2
	a, err := s.insert(ctx, w, items[:half])
	if err != nil {
		return nil, err
	}
	b, err := s.insert(ctx, w, items[half:])
	return append(a, b...), err
}

func (w *writer) name() string {
	if w.label != "" {
		return w.label
	}
	return w.tables[0].name
}

// badItem is an item the driver would not append.
type badItem struct {
	item *post.Item
	err  error
}

func (b *badItem) Error() string { return b.err.Error() }

// columnError is a column the driver would not append.
type columnError struct{ err error }

func (c *columnError) Error() string { return c.err.Error() }

// send inserts the items' rows into every table of the writer, column by
// column where the writer can, else (or if rowWise) row by row.
func (s *Sink) send(ctx context.Context, w *writer, items []*post.Item, rowWise bool) error {
	bs := make([]driver.Batch, len(w.tables))
	for i, t := range w.tables {
		b, err := s.conn.PrepareBatch(ctx, "INSERT INTO "+s.db+"."+t.name+" ("+t.columns+")")
		if err != nil {
			s.metrics.errors.WithLabelValues(t.name).Inc()
			return fmt.Errorf("preparing %s insert: %w", t.name, err)
		}
		defer b.Abort()
		bs[i] = b
	}
	flushed := make([]int, len(bs)) // rows of each table sent in blocks before Send, which Rows no longer counts
	if w.columns != nil && !rowWise && !s.rowWise {
		if err := s.appendBlocks(w, bs, items, flushed); err != nil {
			return err
		}
	} else {
		for _, it := range items {
			if _, err := w.add(bs, it); err != nil {
				return &badItem{it, err}
			}
		}
	}
	sendOne := func(i int) error {
		t := w.tables[i]
		start := time.Now()
		n := flushed[i] + bs[i].Rows()
		if err := bs[i].Send(); err != nil {
			s.metrics.errors.WithLabelValues(t.name).Inc()
			return fmt.Errorf("inserting %d rows into %s: %w", n, t.name, err)
		}
		s.metrics.flush.WithLabelValues(t.name).Observe(time.Since(start).Seconds())
		s.metrics.rows.WithLabelValues(t.name).Add(float64(n))
		s.metrics.batches.WithLabelValues(t.name).Inc()
		return nil
	}
	if w.together && !s.sequential {
		// Independent tables go in at once, each over its own connection:
		// the server writes them in parallel.
		errs := make([]error, len(bs))
		var wg sync.WaitGroup
		for i := range bs {
			wg.Go(func() { errs[i] = sendOne(i) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	for i := range bs {
		if err := sendOne(i); err != nil {
			return err
		}
	}
	return nil
}

// appendBlocks appends the items column by column, a block of at most
// s.blockRows items at a time, and sends each full block at once: the
// server reads one block while the next is built (it squashes them into
// one part per insert), and the driver's column buffers, reset after each
// block, stay the size of a block instead of growing with the whole batch.
// It adds the rows of each block it sends to flushed, per table.
func (s *Sink) appendBlocks(w *writer, bs []driver.Batch, items []*post.Item, flushed []int) error {
	size := s.blockRows
	if size <= 0 {
		size = len(items)
	}
	for start := 0; start < len(items); start += size {
		end := min(start+size, len(items))
		if _, err := w.columns(bs, items[start:end]); err != nil {
			return &columnError{err}
		}
		if end == len(items) {
			break // Send sends the last block
		}
		for i, b := range bs {
			n := b.Rows()
			if err := b.Flush(); err != nil {
				s.metrics.errors.WithLabelValues(w.tables[i].name).Inc()
				return fmt.Errorf("sending a block of %s: %w", w.tables[i].name, err)
			}
			flushed[i] += n
		}
	}
	return nil
}

// rejectionCodes are the server errors about the data sent, which sending
// it again will not fix: values a column or a view over the table cannot
// take. Anything else (network, timeouts, memory, too many parts, a
// missing table, permissions) may pass, and is retried.
var rejectionCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	38:  true, // CANNOT_PARSE_DATE
	41:  true, // CANNOT_PARSE_DATETIME
	53:  true, // TYPE_MISMATCH
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	72:  true, // CANNOT_PARSE_NUMBER
	128: true, // TOO_LARGE_ARRAY_SIZE
	131: true, // TOO_LARGE_STRING_SIZE
	190: true, // SIZES_OF_ARRAYS_DOESNT_MATCH
	321: true, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
	395: true, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO
}

// Rejection reports whether err is ClickHouse refusing the data sent, as
// opposed to a failure that may pass. A batch spanning more partitions than
// the server takes in one insert (current servers) counts: its halves are
// accepted.
func Rejection(err error) bool {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		// Tables sent at once: a rejection only if every failure is one.
		errs := j.Unwrap()
		for _, e := range errs {
			if !Rejection(e) {
				return false
			}
		}
		return len(errs) > 0
	}
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) {
		return false
	}
	if ex.Code == 252 && strings.Contains(ex.Message, "partitions for single INSERT block") {
		return true
	}
	return rejectionCodes[ex.Code]
}

// metrics are the sink's, per table.
type metrics struct {
	rows, batches, errors, retries, rejected *prometheus.CounterVec
	flush                                    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"table"})
	}
	m := &metrics{
		rows:     counter("earshot_sink_rows_total", "Rows inserted into ClickHouse, per table."),
		batches:  counter("earshot_sink_batches_total", "Inserts (native batches) sent to ClickHouse, per table."),
		errors:   counter("earshot_sink_errors_total", "Inserts that failed, per table, whether retried or cut down to reject rows."),
		retries:  counter("earshot_sink_retries_total", "Failed sink calls given back to the runner to retry (ClickHouse unreachable, slow, the schema not made yet, …), per first table of the stage's write (posts, alerts, suppressions, volume_in)."),
		rejected: counter("earshot_sink_rejected_rows_total", "Items ClickHouse cannot store, dead-lettered, per first table of the write."),
		flush: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "earshot_sink_flush_duration_seconds",
			Help:    "Time to send one native batch to ClickHouse, per table.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"table"}),
	}
	if reg != nil {
		reg.MustRegister(m.rows, m.batches, m.errors, m.retries, m.rejected, m.flush)
	}
	return m
}
