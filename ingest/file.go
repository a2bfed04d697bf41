package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
	"github.com/earshot-dev/earshot/stream"
)

// File replays NDJSON, one record per line, in any format Decoder reads
// (plain, gzip or zstd). A line that is not a valid record becomes a dead
// letter naming the line and the reason; reading goes on. Records that carry
// no post (likes, follows…) are counted in Stats. Memory stays bounded: an
// over-long line is skipped as it is read, never held whole.
type File struct {
	name     string
	r        *bufio.Reader
	closer   io.Closer
	maxBytes int
	line     int
	offset   int64 // bytes of (decompressed) input consumed
	pace     pacer
	dec      *Decoder
	events   []canon.Event
	stats    FileStats
	ckpt     *checkpointer
	buf      []byte // the line being read, reused: nothing decoded keeps it
}

// FileStats counts what a file held.
type FileStats struct {
	Lines   int            `json:"lines"`
	Posts   int            `json:"posts"`
	Deletes int            `json:"deletes"`
	Edits   int            `json:"edits"`
	Dead    int            `json:"dead_letters"`
	Skipped map[string]int `json:"skipped,omitempty"` // records with no post, by kind
}

// OpenFile opens path for replay of any format at rate posts/s (0: as fast
// as possible).
func OpenFile(path string, rate, maxPostBytes int) (*File, error) {
	cfg := DefaultConfig()
	cfg.File.Path, cfg.File.Rate = path, rate
	cfg.MaxPostBytes = maxPostBytes
	return OpenFileConfig(cfg)
}

// OpenFileConfig opens cfg.File.Path as cfg says, resuming from its
// checkpoint when there is one.
func OpenFileConfig(cfg Config) (*File, error) {
	fc := cfg.File
	f, err := os.Open(fc.Path)
	if err != nil {
		return nil, fmt.Errorf("opening posts file: %w", err)
	}
	r, err := decompress(f, fc.MaxRatio)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("opening posts file %s: %w", fc.Path, err)
	}
	src := NewFile(fc.Path, r, fc.Rate, cfg.MaxPostBytes)
	src.closer = closers{r, f}
	if fc.Format != "" {
		src.dec.Format = fc.Format
	}
	src.dec.N.Limits.MaxSkew = cfg.MaxSkew
	if fc.Checkpoint != "" {
		src.ckpt = &checkpointer{path: fc.Checkpoint, file: fc.Path, every: fc.CheckpointEvery}
		if err := src.resume(); err != nil {
			src.Close()
			return nil, err
		}
	}
	return src, nil
}

// NewFile replays NDJSON from r with format detection per line; name labels
// dead letters.
func NewFile(name string, r io.Reader, rate, maxPostBytes int) *File {
	c, _ := r.(io.Closer)
	n := canon.NewNormalizer()
	n.Limits.MaxTextBytes = maxPostBytes
	return &File{
		name: name, r: bufio.NewReaderSize(r, 64<<10), closer: c, maxBytes: maxPostBytes, pace: pacer{rate: rate},
		dec: NewDecoder(FormatAuto, "file", n), stats: FileStats{Skipped: map[string]int{}},
	}
}

// SetClock sets the clock for ingested_at and future dates; tests and dry
// runs that must print the same twice use it.
func (f *File) SetClock(now func() time.Time) { f.dec.N.Now = now }

// SetFormat sets the format of every line (FormatAuto detects per line).
func (f *File) SetFormat(format string) error {
	if !validFormat(format) {
		return fmt.Errorf("format %q: want one of %s", format, strings.Join(formats, ", "))
	}
	f.dec.Format = format
	return nil
}

// Stats returns the counts so far.
func (f *File) Stats() FileStats {
	s := f.stats
	s.Skipped = make(map[string]int, len(f.stats.Skipped))
	for k, v := range f.stats.Skipped {
		s.Skipped[k] = v
	}
	return s
}

// SkippedKinds returns the kinds of skipped records, sorted.
func (s FileStats) SkippedKinds() []string {
	ks := make([]string, 0, len(s.Skipped))
	for k := range s.Skipped {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Close closes the underlying file.
func (f *File) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// FilePosition is where a file replay is: the lines read and the
// (decompressed) bytes they took.
type FilePosition struct {
	Line   int
	Offset int64
}

// Position is where the replay is after the last batch Next returned
// (stream.Checkpointer).
func (f *File) Position() any { return FilePosition{Line: f.line, Offset: f.offset} }

// Checkpoint saves pos as the checkpoint, at most every checkpoint_every
// unless force (stream.Checkpointer): its caller has handled every batch up
// to pos, so a restart resumes after the last of them. Without a checkpoint
// file it does nothing.
func (f *File) Checkpoint(pos any, force bool) error {
	p, ok := pos.(FilePosition)
	if !ok {
		return fmt.Errorf("checkpoint: position %T is not a file position", pos)
	}
	return f.ckpt.save(p.Line, p.Offset, force)
}

// Next reads lines until it has up to max posts and dead letters. It never
// moves the checkpoint: its caller does, with Checkpoint, once the batches
// are handled.
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
		line, size, read, err := f.readLine()
		if read > 0 {
			f.line++ // blank lines count, as an editor numbers them
		}
		if size > 0 || len(line) > 0 {
			f.stats.Lines++
			f.parse(&b, line, size)
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

// readLine returns the next line without its newline, its full size, and
// how many bytes it read (0 only at the end). A line longer than maxBytes
// is returned cut to post.RawLimit bytes; the rest is read and dropped.
func (f *File) readLine() ([]byte, int, int, error) {
	buf := f.buf[:0]
	defer func() { f.buf = buf[:0] }()
	size, read := 0, 0
	for {
		chunk, err := f.r.ReadSlice('\n')
		size += len(chunk)
		read += len(chunk)
		f.offset += int64(len(chunk))
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
		return buf, size, read, err
	}
}

// bom is the UTF-8 byte-order mark some tools write before a file's text.
var bom = []byte("\ufeff")

// parse decodes one line into b. Blank lines are skipped (streams send them
// as keep-alives). Unknown fields are ignored, so exports with extra fields
// load.
func (f *File) parse(b *post.Batch, line []byte, size int) {
	reject := func(class post.Class, reason string) {
		f.stats.Dead++
		b.Rejected = append(b.Rejected, post.Rejected{Raw: bytes.Clone(line[:min(len(line), post.RawLimit)]), Reason: fmt.Sprintf("%s:%d: %s", f.name, f.line, reason), Class: class})
	}
	if size > f.maxBytes {
		reject(post.ClassTooBig, fmt.Sprintf("line is %d bytes, over max_post_bytes %d", size, f.maxBytes))
		return
	}
	line = bytes.TrimPrefix(line, bom) // before the first line, or a file concatenated to another
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	var err error
	f.events, err = f.dec.Decode(line, f.events[:0])
	if err != nil {
		reject(post.ClassOf(err, post.ClassDecode), err.Error())
		return
	}
	for _, ev := range f.events {
		if ev.Post == nil {
			f.stats.Skipped[ev.Skip]++
			continue
		}
		switch ev.Post.Kind {
		case post.KindDelete:
			f.stats.Deletes++
		case post.KindEdit:
			f.stats.Edits++
		default:
			f.stats.Posts++
		}
		b.Items = append(b.Items, &post.Item{Post: ev.Post})
	}
}

type closers []io.Closer

func (cs closers) Close() error {
	var errs []error
	for _, c := range cs {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}
