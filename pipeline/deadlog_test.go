package pipeline

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestRunLogsTheDeadLetterClass: earshot run logs each dead letter with its
// class, so the log can be grepped by class as the metric is; a letter
// without one (written before classes) logs as other.
func TestRunLogsTheDeadLetterClass(t *testing.T) {
	var buf bytes.Buffer
	p := &Process{opt: ProcessOptions{Name: Run, Log: slog.New(slog.NewTextHandler(&buf, nil))}}
	taps := p.taps()
	taps.Dead(&post.DeadLetter{Stage: "ingest", Class: post.ClassTooBig, Reason: `line is 9 bytes, over max_post_bytes 1 class=decode`})
	taps.Dead(&post.DeadLetter{Stage: "match", Reason: "old"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "stage=ingest class=too_big ") || !strings.Contains(lines[1], "stage=match class=other ") {
		t.Errorf("log:\n%s\nwant each dead letter's class before its reason", buf.String())
	}
}
