package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
)

// BenchmarkAuthenticate measures a token check, which compares the hash
// with every stored one in constant time: its cost grows with the number
// of tokens.
func BenchmarkAuthenticate(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			s, _ := OpenTokens(filepath.Join(b.TempDir(), "tokens.json"), nil)
			var secret string
			for i := range n {
				_, sec, err := s.Create(NewToken{Name: fmt.Sprintf("t%d", i), Role: Viewer})
				if err != nil {
					b.Fatal(err)
				}
				secret = sec
			}
			b.SetBytes(int64(len(secret)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Authenticate(secret); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRequest measures a whole request through the server (request
// id, authentication, rate limit, role and scope checks, JSON answer),
// without the network.
func BenchmarkRequest(b *testing.B) {
	e := newEnv(b, func(c *Config, _ *Deps) { c.Rate, c.Burst = 1e9, 1e9 })
	for _, path := range []string{"/v1/whoami", "/v1/watchlists/acme-gr"} {
		b.Run(path, func(b *testing.B) {
			req := httptest.NewRequest("GET", path, nil)
			req.Header.Set("Authorization", "Bearer "+e.tok["gatherer-gr"])
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("%d %s", w.Code, w.Body)
			}
			b.SetBytes(int64(w.Body.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				w := httptest.NewRecorder()
				e.srv.ServeHTTP(w, req)
			}
		})
	}
}
