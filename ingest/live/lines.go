package live

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// Lines reads lines of at most Max bytes from a stream; a longer line is
// read to its end and dropped, so memory stays bounded whatever the server
// sends.
type Lines struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// NewLines reads lines from r.
func NewLines(r io.Reader, max int) *Lines {
	return &Lines{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Next returns the next line without its line ending (valid until the next
// call), its full size, and whether it was over the limit (then the line
// holds only its start).
func (l *Lines) Next() (line []byte, size int, tooBig bool, err error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		size += len(chunk)
		if len(l.buf) <= l.max {
			l.buf = append(l.buf, chunk[:min(len(chunk), l.max+1-len(l.buf))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (size == 0 || !errors.Is(err, io.EOF)) {
			return nil, 0, false, err
		}
		line = bytes.TrimRight(l.buf, "\r\n")
		size -= len(chunk) - len(bytes.TrimRight(chunk, "\r\n"))
		if size > l.max {
			return line[:min(len(line), l.max)], size, true, nil
		}
		return line, size, false, nil
	}
}
