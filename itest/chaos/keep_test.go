package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeT records what KeepOnFailure logs and runs its cleanups on demand.
type fakeT struct {
	failed   bool
	logs     []string
	cleanups []func()
}

func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Failed() bool      { return f.failed }
func (f *fakeT) Logf(format string, args ...any) {
	f.logs = append(f.logs, fmt.Sprintf(format, args...))
}
func (f *fakeT) Name() string { return "TestFake" }
func (f *fakeT) runCleanups() {
	for _, fn := range f.cleanups {
		fn()
	}
}

func TestKeepOnFailureKeepsStderrAndLogsItsTail(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	if err := os.WriteFile(filepath.Join(dir, "sink.stderr"), []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "kafka", "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "kafka", "data", "00.index"), []byte("data"), 0o644)
	os.WriteFile(filepath.Join(dir, "kafka", "kafka.out"), []byte("broker log"), 0o644)

	passed := &fakeT{}
	KeepOnFailure(passed, dir)
	passed.runCleanups()
	if len(passed.logs) != 0 {
		t.Fatalf("a passing test logged %q", passed.logs)
	}

	failed := &fakeT{failed: true}
	KeepOnFailure(failed, dir)
	failed.runCleanups()
	all := strings.Join(failed.logs, "\n")
	if !strings.Contains(all, "line 299") || !strings.Contains(all, "line 100") || strings.Contains(all, "line 99\n") {
		t.Errorf("want the last 200 lines (100-299) of sink.stderr in the log, got:\n%.500s", all)
	}
	last := failed.logs[len(failed.logs)-1]
	i := strings.Index(last, "kept in ")
	if i < 0 {
		t.Fatalf("the log names no kept directory: %q", last)
	}
	kept := strings.TrimSpace(last[i+len("kept in "):])
	defer os.RemoveAll(kept)
	if b, err := os.ReadFile(filepath.Join(kept, "0", "sink.stderr")); err != nil || !strings.Contains(string(b), "line 0\n") {
		t.Errorf("sink.stderr not kept whole: %v", err)
	}
	if _, err := os.ReadFile(filepath.Join(kept, "0", "kafka", "kafka.out")); err != nil {
		t.Errorf("the broker's log not kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(kept, "0", "kafka", "data", "00.index")); err == nil {
		t.Error("Kafka's data was copied too")
	}
}
