package ingest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// Push decodes the documented encodings (gzip, zstd, br), strips a BOM,
// and answers 415 to bodies it cannot read (XML, multipart, an unknown
// encoding) instead of 202 with every line refused.
func TestPushEncodingsAndTypes(t *testing.T) {
	p := testPush(t, nil)
	pump(t, p)
	one, _, _ := strings.Cut(pushBody, "\n")
	body := []byte(one + "\n")
	var zs, br bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(body)
	zw.Close()
	bw := brotli.NewWriter(&br)
	bw.Write(body)
	bw.Close()
	send := func(ctype, enc string, b []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/posts", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer acme-token-0123456789")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if enc != "" {
			req.Header.Set("Content-Encoding", enc)
		}
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		return w
	}
	for _, c := range []struct {
		name, ctype, enc string
		body             []byte
		status           int
		says             string
	}{
		{"zstd", "application/x-ndjson", "zstd", zs.Bytes(), 202, `"accepted":1`},
		{"br", "", "br", br.Bytes(), 202, `"accepted":1`},
		{"BOM", "application/x-ndjson", "", append([]byte("\ufeff"), body...), 202, `"accepted":1`},
		{"BOM array", "application/json", "", []byte("\ufeff[" + one + "]"), 202, `"accepted":1`},
		{"curl default type", "application/x-www-form-urlencoded", "", body, 202, `"accepted":1`},
		{"unknown encoding", "", "compress", body, 415, "Content-Encoding"},
		{"xml", "application/xml", "", []byte("<posts/>"), 415, "Content-Type"},
		{"multipart", "multipart/form-data; boundary=x", "", []byte("--x\r\n"), 415, "Content-Type"},
	} {
		w := send(c.ctype, c.enc, c.body)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.says) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, w.Code, w.Body.String(), c.status, c.says)
		}
	}
}

// The 413 names the limit that applied: a body limit set in front of the
// endpoint (the API's) as well as push.max_body_bytes.
func TestPush413NamesTheLimit(t *testing.T) {
	p := testPush(t, nil)
	big := bytes.Repeat([]byte(pushBody+"\n"), 20000) // about 1.5 MB
	req := httptest.NewRequest(http.MethodPost, "/v1/posts", bytes.NewReader(big))
	w := httptest.NewRecorder()
	req.Body = http.MaxBytesReader(w, req.Body, 1<<20)
	p.ServeTenant(w, req, "acme")
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(w.Body.String(), "1048576") {
		t.Errorf("%d %s, want 413 naming the 1048576-byte limit that applied", w.Code, w.Body.String())
	}
}

// source: push without push.addr or tenants says where the default address
// comes from and how to serve pushes through the API instead.
func TestPushWithoutTenantsSaysWhatToDo(t *testing.T) {
	c := DefaultConfig()
	c.Source = "push"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1:8088") || !strings.Contains(err.Error(), `addr: ""`) {
		t.Errorf("Validate() = %v, want it to name the default address and addr: \"\"", err)
	}
}

// The Authorization scheme is case-insensitive (RFC 9110): "bearer" works.
func TestPushBearerCaseInsensitive(t *testing.T) {
	p := testPush(t, nil)
	pump(t, p)
	one, _, _ := strings.Cut(pushBody, "\n")
	for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
		req := httptest.NewRequest(http.MethodPost, "/v1/posts", strings.NewReader(one))
		req.Header.Set("Authorization", scheme+" acme-token-0123456789")
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			t.Errorf("%s: %d %s", scheme, w.Code, w.Body.String())
		}
	}
}
