package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// File replays canonical posts from NDJSON, one post per line. A line that
// is not a valid post becomes a dead letter naming the line and the reason;
// reading goes on. Memory stays bounded: an over-long line is skipped as it
// is read, never held whole.
type File struct {
	name     string
	r        *bufio.Reader
	closer   io.Closer
	maxBytes int
	line     int
	pace     pacer
	now      func() time.Time
}

// OpenFile opens path for replay at rate posts/s (0: as fast as possible).
func OpenFile(path string, rate, maxPostBytes int) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening posts file: %w", err)
	}
	return NewFile(path, f, rate, maxPostBytes), nil
}

// NewFile replays NDJSON from r; name labels dead letters.
func NewFile(name string, r io.Reader, rate, maxPostBytes int) *File {
	c, _ := r.(io.Closer)
	return &File{name: name, r: bufio.NewReaderSize(r, 64<<10), closer: c, maxBytes: maxPostBytes, pace: pacer{rate: rate}, now: time.Now}
}

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// Next reads up to max lines.
func (f *File) Next(ctx context.Context, max int) (post.Batch, error) {
	var b post.Batch
	n := max
	for {
		var wait time.Duration
		if n, wait = f.pace.allow(max); n > 0 {
			break
		}
		if !stream.Sleep(ctx, wait) {
			return b, ctx.Err()
		}
	}
	for len(b.Items)+len(b.Rejected) < n {
		line, size, err := f.readLine()
		if size > 0 || len(line) > 0 {
			f.line++
			if it, reason := f.parse(line, size); reason != "" {
				b.Rejected = append(b.Rejected, post.Rejected{Raw: line, Reason: fmt.Sprintf("%s:%d: %s", f.name, f.line, reason)})
			} else if it != nil {
				b.Items = append(b.Items, it)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return b, io.EOF
			}
			return b, fmt.Errorf("reading %s at line %d: %w", f.name, f.line+1, err)
		}
	}
	return b, nil
}

// readLine returns the next line without its newline, and its full size. A
// line longer than maxBytes is returned cut to post.RawLimit bytes; the rest
// is read and dropped.
func (f *File) readLine() ([]byte, int, error) {
	var buf []byte
	size := 0
	for {
		chunk, err := f.r.ReadSlice('\n')
		size += len(chunk)
		if len(buf) <= f.maxBytes {
			buf = append(buf, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if n := len(chunk); n > 0 && chunk[n-1] == '\n' {
			size--
		}
		buf = bytes.TrimRight(buf, "\r\n")
		if size > f.maxBytes {
			buf = buf[:min(len(buf), post.RawLimit)]
		}
		return buf, size, err
	}
}

// parse decodes one line; a non-empty reason means the line is rejected.
// Blank lines are skipped. Unknown fields are ignored, so exports with
// extra fields load.
func (f *File) parse(line []byte, size int) (*post.Item, string) {
	if size > f.maxBytes {
		return nil, fmt.Sprintf("line is %d bytes, over max_post_bytes %d", size, f.maxBytes)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, ""
	}
	if err := post.CheckUTF8(line); err != nil {
		return nil, err.Error()
	}
	p := new(post.Post)
	if err := json.Unmarshal(line, p); err != nil {
		return nil, "malformed JSON: " + err.Error()
	}
	if err := p.Validate(); err != nil {
		return nil, err.Error()
	}
	if p.IngestedAt.IsZero() {
		p.IngestedAt = f.now().UTC()
	}
	return &post.Item{Post: p}, ""
}
