package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

// FilterOptions tunes Filter. The zero value reads any format, with the
// default post size limit, on every core.
type FilterOptions struct {
	Format       string        // a line format (FormatAuto when empty)
	MaxPostBytes int           // a longer line is refused (DefaultConfig's when 0)
	MaxSkew      time.Duration // a post dated further in the future is refused (canon's default when 0)
	Workers      int           // decoding and matching goroutines; 0 is GOMAXPROCS
	// Reject is told each refused line, in input order, with the reason
	// (name:line: why); nil ignores them (Stats still counts them).
	Reject func(reason string)
	// MayKeep, when set, is a cheap test of the texts of an undecoded line
	// whose post texts occur in it literally (see Decoder.literalText),
	// joined by newlines: false means keep would be false for every post of
	// the line (match.Engine.MayMatch is one: no keyword occurs in them),
	// and the line is then neither decoded nor written. A line so skipped is not checked either, so a
	// refused line among them is not reported: leave MayKeep nil to check
	// every line.
	MayKeep func(raw string) bool
}

// FilterStats counts what Filter read and kept.
type FilterStats struct {
	Lines int `json:"lines"`        // non-blank lines
	Posts int `json:"posts"`        // posts and edits decoded and offered to keep (not deletes and non-post records)
	Kept  int `json:"kept"`         // lines written
	Dead  int `json:"dead_letters"` // lines refused: unreadable, over the size limit, or failing the checks ingest makes
	// Skipped lines were not decoded: MayKeep said no post of theirs can
	// be kept.
	Skipped int `json:"skipped,omitempty"`
}

// filterChunk is a run of consecutive lines, decoded and judged by one
// worker; the writer takes chunks in input order.
type filterChunk struct {
	first   int      // line number of the first line
	buf     []byte   // the lines, back to back
	ends    []int    // end of each line in buf
	keep    []bool   // per line
	reasons []string // per line: why it was refused, "" if it was not
	posts   int
	skipped int
	texts   []byte // the literal texts of the line being judged
	done    chan struct{}
}

const (
	filterChunkLines = 2048
	filterChunkBytes = 1 << 20
)

// Filter copies to w the lines of r (NDJSON in any format ingest reads:
// plain, gzip or zstd) holding a post for which keep is true, byte for byte
// as they were read (without a leading byte-order mark or the line end), in input order. Each line is decoded and checked as ingest's file
// source does, so keep sees the canonical post the pipeline would match;
// a line that ingest would refuse is reported to o.Reject and not written.
// Deletes and records that carry no post are never written. keep is called
// from several goroutines at once.
//
// Memory stays bounded (a few chunks of up to 1 MiB per worker, and one line
// of at most MaxPostBytes); an over-long line is skipped as it is read.
func Filter(ctx context.Context, name string, r io.Reader, w io.Writer, keep func(*post.Post) bool, o FilterOptions) (FilterStats, error) {
	var st FilterStats
	if o.Format == "" {
		o.Format = FormatAuto
	}
	if !validFormat(o.Format) {
		return st, fmt.Errorf("filter: format %q: want one of %v", o.Format, formats)
	}
	if o.MaxPostBytes <= 0 {
		o.MaxPostBytes = DefaultConfig().MaxPostBytes
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	rc, err := decompress(r, 0)
	if err != nil {
		return st, fmt.Errorf("filter: reading %s: %w", name, err)
	}
	defer rc.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	work := make(chan *filterChunk, o.Workers)
	order := make(chan *filterChunk, 2*o.Workers)
	free := sync.Pool{New: func() any { return &filterChunk{buf: make([]byte, 0, filterChunkBytes+4096)} }}
	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := canon.NewNormalizer()
			n.Limits.MaxTextBytes = o.MaxPostBytes
			if o.MaxSkew > 0 {
				n.Limits.MaxSkew = o.MaxSkew
			}
			dec := NewDecoder(o.Format, "file", n)
			var events []canon.Event
			for c := range work {
				events = c.judge(name, dec, keep, o.MayKeep, events)
				close(c.done)
			}
		}()
	}
	// The reader: it owns work and order, and stops when the writer cancels.
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(work)
		readErr <- readChunks(ctx, bufio.NewReaderSize(rc, 64<<10), o.MaxPostBytes, &free, work, order)
	}()
	bw := bufio.NewWriterSize(w, 64<<10)
	var werr error
	for c := range order {
		<-c.done
		if werr == nil && ctx.Err() == nil {
			start := 0
			for i, end := range c.ends {
				line := c.buf[start:end]
				start = end
				if len(bytes.TrimSpace(line)) > 0 || c.reasons[i] != "" {
					st.Lines++
				}
				if c.reasons[i] != "" {
					st.Dead++
					if o.Reject != nil {
						o.Reject(c.reasons[i])
					}
					continue
				}
				if c.keep[i] {
					st.Kept++
					bw.Write(line)
					if werr = bw.WriteByte('\n'); werr != nil {
						cancel()
						break
					}
				}
			}
			st.Posts += c.posts
			st.Skipped += c.skipped
		}
		free.Put(c)
	}
	wg.Wait()
	if werr == nil {
		werr = bw.Flush()
	}
	rerr := <-readErr
	switch {
	case werr != nil:
		return st, fmt.Errorf("filter: writing: %w", werr)
	case rerr != nil:
		return st, rerr
	}
	return st, nil
}

// readChunks cuts r into chunks of lines and hands each to a worker (work)
// and, in the same order, to the writer (order).
func readChunks(ctx context.Context, r *bufio.Reader, maxBytes int, free *sync.Pool, work, order chan<- *filterChunk) error {
	line := 0
	var c *filterChunk
	send := func() bool {
		if c == nil || len(c.ends) == 0 {
			return true
		}
		c.keep = resize(c.keep, len(c.ends))
		select {
		case order <- c:
		case <-ctx.Done():
			return false
		}
		select {
		case work <- c:
		case <-ctx.Done():
			close(c.done) // the writer is waiting on it
			return false
		}
		c = nil
		return true
	}
	for {
		if c == nil {
			c = free.Get().(*filterChunk)
			c.first, c.buf, c.ends, c.posts, c.skipped, c.done = line+1, c.buf[:0], c.ends[:0], 0, 0, make(chan struct{})
			c.reasons = c.reasons[:0]
		}
		start := len(c.buf)
		size, read := 0, 0
		var err error
		for {
			var chunk []byte
			chunk, err = r.ReadSlice('\n')
			size += len(chunk)
			read += len(chunk)
			if size <= maxBytes+2 {
				c.buf = append(c.buf, chunk...)
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		if read > 0 {
			line++
			b := bytes.TrimRight(c.buf[start:], "\r\n")
			if rest, ok := bytes.CutPrefix(b, bom); ok {
				// before the first line, or a file concatenated to another
				b = b[:copy(b, rest)]
			}
			if n := len(b); size > maxBytes+2 || n > maxBytes {
				// over the limit: keep nothing of it but the reason
				c.buf = c.buf[:start]
				c.ends = append(c.ends, start)
				c.reasons = append(c.reasons, fmt.Sprintf("line is %d bytes, over max_post_bytes %d", size, maxBytes))
			} else {
				c.buf = c.buf[:start+n]
				c.ends = append(c.ends, start+n)
				c.reasons = append(c.reasons, "")
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			send()
			return fmt.Errorf("filter: reading at line %d: %w", line+1, err)
		}
		if err != nil || len(c.ends) >= filterChunkLines || len(c.buf) >= filterChunkBytes {
			if !send() {
				return ctx.Err()
			}
		}
		if err != nil { // io.EOF
			return nil
		}
	}
}

// judge decodes each line of c and decides whether to keep it.
func (c *filterChunk) judge(name string, dec *Decoder, keep func(*post.Post) bool, mayKeep func(string) bool, events []canon.Event) []canon.Event {
	start := 0
	for i, end := range c.ends {
		line := c.buf[start:end]
		start = end
		c.keep[i] = false
		if c.reasons[i] != "" {
			c.reasons[i] = fmt.Sprintf("%s:%d: %s", name, c.first+i, c.reasons[i])
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if mayKeep != nil {
			var literal bool
			if c.texts, literal = dec.literalText(line, c.texts); literal && !mayKeep(string(c.texts)) {
				c.skipped++
				continue
			}
		}
		var err error
		events, err = dec.Decode(line, events[:0])
		if err != nil {
			c.reasons[i] = fmt.Sprintf("%s:%d: %s", name, c.first+i, err)
			continue
		}
		for _, ev := range events {
			if ev.Post == nil || ev.Post.Kind == post.KindDelete {
				continue
			}
			c.posts++
			if !c.keep[i] && keep(ev.Post) {
				c.keep[i] = true
			}
		}
	}
	return events
}

// resize returns s with length n, its elements zero.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		s = make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
