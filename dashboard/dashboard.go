// Package dashboard is earshot's built-in web pages: the dashboard (volume,
// sentiment, markets, top terms, themes, open alerts, pipeline health and
// the archived stakeholder digests) and the responders' desk (/desk: the
// queues' alerts, claim, note, resolve, live), drawn in the browser from the
// HTTP API (the insights cookbook, the queues, the live feed, /v1/digests,
// /metrics). Their assets are embedded, so there is nothing to build or
// install; they hold no data and no credentials of their own: the pages
// call the API with the user's token.
package dashboard

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the page and its assets. Mount it under a prefix with
// http.StripPrefix, e.g. at /ui/.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The page runs only its own scripts and talks only to this origin.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Cache-Control", "no-cache")
		if r.URL.Path == "/desk" || r.URL.Path == "/desk/" {
			// The desk page: /desk (the links notifications send,
			// /ui/desk?alert=ID) is desk.html.
			http.ServeFileFS(w, r, sub, "desk.html")
			return
		}
		files.ServeHTTP(w, r)
	})
}
