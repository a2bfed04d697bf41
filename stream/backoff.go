package stream

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields capped exponential delays with full jitter, so that many
// processes retrying one broker do not retry in step.
type Backoff struct {
	Min, Max time.Duration
	n        int
}

// Next returns the next delay.
func (b *Backoff) Next() time.Duration {
	d := b.Min << min(b.n, 20)
	if d > b.Max || d <= 0 {
		d = b.Max
	} else {
		b.n++
	}
	return d/2 + rand.N(d/2+1)
}

// Reset starts the sequence again after a success.
func (b *Backoff) Reset() { b.n = 0 }

// Sleep waits for d or until ctx ends; it reports whether d elapsed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
