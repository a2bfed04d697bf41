// Package redact takes credentials out of what earshot writes about the
// URLs it calls (dead-letter reasons, logs, errors): an endpoint's token
// often rides in its query string or userinfo, and a reason lands in the
// dead-letter topic and table, which more people read than the config.
package redact

import (
	"errors"
	"net/url"
	"strings"
)

// maxShown bounds the URL shown: a reason stays short whatever the config.
const maxShown = 256

// URL is u with its userinfo, query and fragment replaced by "…": the
// scheme, host and path, enough to tell endpoints apart. It works on text
// that does not parse as a URL too, so that a bad one in a config error
// shows no more.
func URL(u string) string {
	tail := ""
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u, tail = u[:i], u[i:i+1]+"…"
	}
	rest, scheme := u, ""
	if i := strings.Index(u, "//"); i >= 0 {
		scheme, rest = u[:i+2], u[i+2:]
	}
	host := rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host = rest[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		rest = "…@" + rest[i+1:]
	}
	if u = scheme + rest; len(u) > maxShown {
		u = strings.ToValidUTF8(u[:maxShown], "") + "…"
	}
	return u + tail
}

// RequestError is err with the URL that net/http's client puts in its
// errors (a *url.Error) replaced by shown, or, when shown is "", with that
// error's cause alone: for a URL that is a credential as a whole (Slack's
// and Teams' webhooks). Other errors are returned as they are.
func RequestError(err error, shown string) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	if shown == "" {
		return ue.Err
	}
	return &url.Error{Op: ue.Op, URL: shown, Err: ue.Err}
}
