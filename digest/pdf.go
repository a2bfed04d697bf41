package digest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// ErrNoChromium: no headless Chromium to print PDFs with.
var ErrNoChromium = errors.New("no chromium found (set EARSHOT_CHROMIUM, or install Debian's chromium: deploy/local/chromium.sh)")

// MaxPDF bounds a printed PDF.
const MaxPDF = 64 << 20

// FindChromium returns the Chromium to print with: $EARSHOT_CHROMIUM, or
// the first of chromium, chromium-browser, google-chrome on the PATH.
func FindChromium(getenv func(string) string) (string, error) {
	if p := getenv("EARSHOT_CHROMIUM"); p != "" {
		return exec.LookPath(p)
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// printPolicy is the content security policy the printed page gets in a
// meta element, as the API serves it: it loads nothing but data: images
// and inline styles. The page is a file, and a file may otherwise frame
// any other file (/etc/passwd, the state dir's tokens) into the PDF.
const printPolicy = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`

// withPolicy puts printPolicy first in the page's head (before anything of
// the page's own), or first of all when it has none.
func withPolicy(html []byte) []byte {
	if i := bytes.Index(bytes.ToLower(html[:min(len(html), 1024)]), []byte("<head>")); i >= 0 {
		i += len("<head>")
		return slices.Concat(html[:i], []byte(printPolicy), html[i:])
	}
	return slices.Concat([]byte(printPolicy), html)
}

// PDF prints an HTML page (self-contained: images as data: URIs) to PDF
// with headless Chromium, with every network request sent to a closed
// port and a policy that loads nothing but data: images (printPolicy), so
// a page can fetch nothing and show no other file. It takes at most a
// minute.
func PDF(ctx context.Context, chromium string, html []byte) ([]byte, error) {
	dir, err := os.MkdirTemp("", "earshot-digest-pdf-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	page := filepath.Join(dir, "digest.html")
	if err := os.WriteFile(page, withPolicy(html), 0o600); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "digest.pdf")
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	args := []string{"--headless", "--disable-gpu", "--no-first-run", "--disable-extensions", "--disable-sync",
		"--user-data-dir=" + filepath.Join(dir, "profile"), "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
		"--no-pdf-header-footer", "--print-to-pdf=" + out, "file://" + page}
	if os.Geteuid() == 0 {
		args = append([]string{"--no-sandbox"}, args...) // Chromium refuses to run as root with its sandbox
	}
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("chromium --print-to-pdf: %w: %s", err, tail(stderr.Bytes(), 500))
	}
	st, err := os.Stat(out)
	if err != nil {
		return nil, fmt.Errorf("chromium --print-to-pdf wrote no PDF: %s", tail(stderr.Bytes(), 500))
	}
	if st.Size() > MaxPDF {
		return nil, fmt.Errorf("the PDF is %d bytes, over %d", st.Size(), MaxPDF)
	}
	return os.ReadFile(out)
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
