package live

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/earshot-dev/earshot/ingest/canon"
	"github.com/earshot-dev/earshot/post"
)

func TestLines(t *testing.T) {
	in := "short\r\n\n" + strings.Repeat("x", 100) + "\nlast"
	l := NewLines(strings.NewReader(in), 10)
	type res struct {
		line string
		size int
		big  bool
	}
	var got []res
	for {
		line, size, big, err := l.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res{string(line), size, big})
	}
	want := []res{{"short", 5, false}, {"", 0, false}, {strings.Repeat("x", 10), 100, true}, {"last", 4, false}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCursorFile(t *testing.T) {
	f := &CursorFile{Path: filepath.Join(t.TempDir(), "c")}
	if n, err := f.Load(); n != 0 || err != nil {
		t.Fatalf("missing file: %d, %v", n, err)
	}
	if err := f.Save(1783175888400999); err != nil {
		t.Fatal(err)
	}
	if n, err := f.Load(); n != 1783175888400999 || err != nil {
		t.Fatalf("Load = %d, %v", n, err)
	}
}

// TestGivesUp: a source that never gets an event stops after MaxFailures
// attempts with the last error, instead of retrying for ever.
func TestGivesUp(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MinBackoff, cfg.MaxBackoff, cfg.MaxFailures = time.Millisecond, 2*time.Millisecond, 3
	attempts := 0
	s := New("t", cfg, []Dialer{func(ctx context.Context, c *Conn) error {
		attempts++
		return errors.New("refused")
	}}, nil, nil, nil)
	defer s.Close()
	_, err := s.Next(context.Background(), 10)
	if err == nil || !strings.Contains(err.Error(), "3 connection attempts") || !strings.Contains(err.Error(), "refused") || attempts != 3 {
		t.Errorf("Next = %v after %d attempts", err, attempts)
	}
}

// TestBackpressure: a full queue blocks the connection's reader instead of
// growing, and Close still stops it.
func TestBackpressure(t *testing.T) {
	cfg := DefaultConfig()
	cfg.QueueSize = 4
	emitted := make(chan int, 100)
	s := New("t", cfg, []Dialer{func(ctx context.Context, c *Conn) error {
		for i := 0; ; i++ {
			p := &post.Post{Platform: "t", ID: "x", CreatedAt: time.Now()}
			if err := c.Emit(ctx, canon.Event{Post: p}, nil, nil); err != nil {
				return err
			}
			emitted <- i
		}
	}}, nil, nil, nil)
	b, err := s.Next(context.Background(), 1)
	if err != nil || len(b.Items) != 1 {
		t.Fatalf("Next = %d items, %v", len(b.Items), err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := len(emitted); n > cfg.QueueSize+2 {
		t.Errorf("%d posts read ahead with a queue of %d", n, cfg.QueueSize)
	}
	done := make(chan struct{})
	go func() { s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not stop a reader blocked on a full queue")
	}
}

func FuzzLines(f *testing.F) {
	f.Add([]byte("a\r\nbb\n\n"+strings.Repeat("x", 40)+"\nlast"), 8)
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		l := NewLines(strings.NewReader(string(b)), max)
		total := 0
		for {
			line, size, big, err := l.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(line) > max || big != (size > max) || !big && len(line) != size {
				t.Fatalf("line of %d bytes, size %d, big %v with max %d", len(line), size, big, max)
			}
			total += size
		}
		if total > len(b) {
			t.Fatalf("sizes add up to %d of %d bytes", total, len(b))
		}
	})
}
