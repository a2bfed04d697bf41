package redact

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.example/care":                           "https://hooks.example/care",
		"https://hooks.example/care?token=s3cret":              "https://hooks.example/care?…",
		"https://hooks.example/care#s3cret":                    "https://hooks.example/care#…",
		"https://user:s3cret@hooks.example:8443/care?x=s3cret": "https://…@hooks.example:8443/care?…",
		"https://s3cret@hooks.example":                         "https://…@hooks.example",
		"https://hooks.example/a@b/c":                          "https://hooks.example/a@b/c", // an @ in the path is not userinfo
		"ftp://u:s3cret@x?y":                                   "ftp://…@x?…",
		"not a url?s3cret":                                     "not a url?…",
		"//u:s3cret@host/p":                                    "//…@host/p",
		"u:s3cret@host?q":                                      "…@host?…", // no scheme: still not shown
		"":                                                     "",
		"https://h.example/\x00?s3cret":                        "https://h.example/\x00?…",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	if got := URL(strings.Repeat("a", 1<<20)); len(got) > maxShown+len("…") {
		t.Errorf("a 1 MiB URL is shown in %d bytes", len(got))
	}
}

// RequestError takes the URL out of what net/http's client returns: the
// whole of it (for a URL that is itself a credential) or all but its
// redacted form.
func TestRequestError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://u:s3cret@127.0.0.1:1/hook?token=s3cret", nil)
	_, err := http.DefaultClient.Do(req)
	if err == nil || !strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("the client's error %v does not show the URL: the test shows nothing", err)
	}
	shown := RequestError(err, URL(req.URL.String()))
	if strings.Contains(shown.Error(), "s3cret") || !strings.Contains(shown.Error(), "127.0.0.1:1/hook?…") || !errors.Is(shown, context.Canceled) {
		t.Errorf("redacted: %v", shown)
	}
	if bare := RequestError(err, ""); strings.Contains(bare.Error(), "127.0.0.1") || !errors.Is(bare, context.Canceled) {
		t.Errorf("without the URL: %v", bare)
	}
	plain := errors.New("HTTP 503")
	if RequestError(plain, "x") != plain {
		t.Error("an error without a URL is changed")
	}
	if RequestError(nil, "x") != nil {
		t.Error("nil is not nil")
	}
}
