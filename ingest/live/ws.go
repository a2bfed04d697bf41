package live

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/coder/websocket"
)

// ErrTooBig is returned by ReadBounded for a message over the limit.
var ErrTooBig = errors.New("message too big")

// ReadBounded reads r to its end into buf, keeping at most limit bytes. A
// longer message is read to its end and dropped, and ErrTooBig returned with
// its first limit bytes: the connection stays usable, so the message can be
// dead-lettered instead of meeting it again after a reconnect.
func ReadBounded(buf []byte, r io.Reader, limit int64) ([]byte, error) {
	lr := io.LimitReader(r, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return buf, err
		}
	}
	if int64(len(buf)) > limit {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return buf, err
		}
		return buf[:limit], ErrTooBig
	}
	return buf, nil
}

// KeepAlive pings conn every idle/3 until ctx ends, touching the stall
// detector on every pong: a quiet stream is not a dead one, a hung server
// answers none. The returned function stops it and waits.
func KeepAlive(ctx context.Context, conn *websocket.Conn, idle time.Duration, c *Conn) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := idle / 3
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				pctx, pcancel := context.WithTimeout(ctx, every)
				if conn.Ping(pctx) == nil {
					c.Touch()
				}
				pcancel()
			}
		}
	}()
	return func() { cancel(); <-done }
}
