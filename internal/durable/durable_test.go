package durable

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The tests re-execute this binary as a second process: DURABLE_HELPER
// says what the child does.
func TestMain(m *testing.M) {
	switch os.Getenv("DURABLE_HELPER") {
	case "":
		os.Exit(m.Run())
	case "write":
		writeForever(os.Getenv("DURABLE_PATH"))
	case "lock", "rlock":
		holdLock(os.Getenv("DURABLE_HELPER"), os.Getenv("DURABLE_PATH"))
	}
	os.Exit(0)
}

// writeForever replaces path with 1 MiB of 'a', then of 'b', and so on,
// until it is killed.
func writeForever(path string) {
	a, b := bytes.Repeat([]byte{'a'}, 1<<20), bytes.Repeat([]byte{'b'}, 1<<20)
	fmt.Println("writing")
	for i := 0; ; i++ {
		data := a
		if i%2 == 1 {
			data = b
		}
		if err := WriteFile(path, data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
}

// holdLock takes the lock at path, says so, and holds it until its
// standard input closes.
func holdLock(how, path string) {
	l := NewLock(path, 0o600)
	var err error
	if how == "lock" {
		err = l.Lock()
	} else {
		err = l.RLock()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	if err := l.Unlock(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// child starts this test binary as a helper and waits for its first line.
func child(t *testing.T, how, path string) (stdin io.WriteCloser, cmd *exec.Cmd) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DURABLE_HELPER="+how, "DURABLE_PATH="+path)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("the helper process said nothing: %v", err)
	}
	if want := map[string]string{"write": "writing\n", "lock": "locked\n", "rlock": "locked\n"}[how]; line != want {
		t.Fatalf("helper said %q, want %q", line, want)
	}
	return stdin, cmd
}

func TestWriteFileStepsInOrder(t *testing.T) {
	// The data must be on disk before the rename makes it the file, and
	// the rename on disk (the directory synced) before WriteFile returns.
	path := filepath.Join(t.TempDir(), "f")
	var steps []string
	if err := writeFile(path, []byte("x"), 0o600, func(s string) { steps = append(steps, s) }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"write", "sync", "rename", "syncdir"}; !slices.Equal(steps, want) {
		t.Fatalf("steps %v, want %v", steps, want)
	}
}

func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("read %q, %v; want new", got, err)
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want only the file (no temporary left)", len(entries))
	}
	// A relative name writes in the working directory.
	t.Chdir(dir)
	if err := WriteFile("rel", []byte("r"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "rel")); string(got) != "r" {
		t.Errorf("relative write: %q", got)
	}
}

func TestWriteFileFailureKeepsTheOld(t *testing.T) {
	dir := t.TempDir()
	// The target is a non-empty directory: the rename fails.
	path := filepath.Join(dir, "target")
	if err := os.MkdirAll(filepath.Join(path, "inside"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(path, []byte("new"), 0o644)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err %v, want an error naming %s", err, path)
	}
	if fi, err := os.Stat(filepath.Join(path, "inside")); err != nil || !fi.IsDir() {
		t.Fatalf("the old target is gone: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the directory holds %d entries, want no temporary left", len(entries))
	}
	// A missing directory is an error, not a panic.
	if err := WriteFile(filepath.Join(dir, "no", "such", "f"), nil, 0o644); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestWriteFileSurvivesKill9(t *testing.T) {
	// A second process rewrites the file in a loop and is killed with
	// SIGKILL at random moments: the file must always be one whole
	// version, never torn, short or empty.
	if testing.Short() {
		t.Skip("kills processes")
	}
	path := filepath.Join(t.TempDir(), "cursor")
	a, b := bytes.Repeat([]byte{'a'}, 1<<20), bytes.Repeat([]byte{'b'}, 1<<20)
	for round := range 8 {
		_, cmd := child(t, "write", path)
		time.Sleep(time.Duration(5+round*7) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		got, err := os.ReadFile(path)
		if err != nil && round > 0 {
			t.Fatalf("round %d: %v", round, err)
		}
		if err == nil && !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("round %d: the file is torn: %d bytes", round, len(got))
		}
	}
}

func TestLockExcludesAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	stdin, cmd := child(t, "lock", path)
	l := NewLock(path, 0o600)
	defer l.Close()
	if ok, err := l.TryLock(); err != nil || ok {
		t.Fatalf("TryLock while another process holds the lock: %v, %v; want false", ok, err)
	}
	if ok, err := l.TryRLock(); err != nil || ok {
		t.Fatalf("TryRLock while another process holds the lock: %v, %v; want false", ok, err)
	}
	// Lock waits until the other process lets go.
	got := make(chan error, 1)
	go func() { got <- l.Lock() }()
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while another process holds the lock", err)
	case <-time.After(100 * time.Millisecond):
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Lock still waits after the other process let go")
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestSharedLocksShare(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".lock")
	stdin, cmd := child(t, "rlock", path)
	l := NewLock(path, 0o600)
	defer l.Close()
	if ok, err := l.TryRLock(); err != nil || !ok {
		t.Fatalf("TryRLock beside another reader: %v, %v; want true", ok, err)
	}
	l.Unlock()
	if ok, err := l.TryLock(); err != nil || ok {
		t.Fatalf("TryLock beside another reader: %v, %v; want false", ok, err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	if ok, err := l.TryLock(); err != nil || !ok {
		t.Fatalf("TryLock after the reader left: %v, %v; want true", ok, err)
	}
	l.Unlock()
}
