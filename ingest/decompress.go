package ingest

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// ErrBomb is returned when compressed input expands beyond the allowed
// ratio: a decompression bomb, or a file that is not what it claims.
var ErrBomb = errors.New("decompression ratio over the limit")

// maxZstdWindow bounds the window a zstd stream may ask for, and so the
// memory its decoder holds: 128 MiB takes what zstd --long (window log 27)
// and --ultra -22 make. A file made with a larger window (--long=28 or
// more) is refused with errZstdWindow.
const maxZstdWindow = 1 << 27

// bombSlack is what may be decompressed before the ratio is enforced, so a
// small, highly repetitive but honest file is not refused.
const bombSlack = 16 << 20

// decompress returns r decompressed when it starts with a gzip or zstd
// magic number, and r itself otherwise. maxRatio bounds decompressed bytes
// per compressed byte once past bombSlack; 0 is no bound.
func decompress(r io.Reader, maxRatio int) (io.ReadCloser, error) {
	in := &countingReader{r: r}
	br := bufio.NewReaderSize(in, 64<<10)
	magic, err := br.Peek(4)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading header: %w", err)
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		return &ratioReader{r: zr, in: in, max: int64(maxRatio), close: zr.Close, kind: "gzip"}, nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		// bounded window memory, one goroutine: a file source needs no more
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(2*maxZstdWindow), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		return &ratioReader{r: zstdWindowReader{zr}, in: in, max: int64(maxRatio), close: func() error { zr.Close(); return nil }, kind: "zstd"}, nil
	}
	return io.NopCloser(br), nil
}

// zstdWindowReader says what to do when a stream's window is over the bound.
type zstdWindowReader struct{ r io.Reader }

func (z zstdWindowReader) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
		err = fmt.Errorf("zstd: %w: earshot reads windows up to %d MiB (zstd --long=27 or --ultra -22); recompress with zstd --long=27 or less, or decompress the file first", err, maxZstdWindow>>20)
	}
	return n, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type ratioReader struct {
	r     io.Reader
	in    *countingReader
	out   int64
	max   int64
	close func() error
	kind  string
}

func (r *ratioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.out += int64(n)
	if r.max > 0 && r.out > bombSlack && r.out > r.max*r.in.n {
		return n, fmt.Errorf("%w: %s expanded %d bytes to %d (limit %d:1)", ErrBomb, r.kind, r.in.n, r.out, r.max)
	}
	return n, err
}

func (r *ratioReader) Close() error { return r.close() }
