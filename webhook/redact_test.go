package webhook

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/post"
)

// TestDeadLetterReasonsHideURLCredentials: a dead letter's reason (kept on
// the dead-letter topic, logged, counted) names the endpoint, but not a
// password in its userinfo nor the values of its query, where endpoints
// such as Azure Functions (?code=) carry their key; nor does a
// configuration error.
func TestDeadLetterReasonsHideURLCredentials(t *testing.T) {
	srv, _, _ := server(t, 503)
	host := strings.TrimPrefix(srv.URL, "http://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close() // nothing listens there: the request itself fails
	for _, u := range []string{
		"http://alice:hunter2@" + host + "/hook?code=s3cret&x=y",
		"http://alice:hunter2@" + closed + "/hook?code=s3cret",
	} {
		out, err := sender(u, 1).Stage()(context.Background(), post.Batch{Items: []*post.Item{alert("1")}})
		if err != nil || len(out.Rejected) != 1 {
			t.Fatalf("%s: err %v, rejected %d", u, err, len(out.Rejected))
		}
		r := out.Rejected[0].Reason
		if strings.Contains(r, "hunter2") || strings.Contains(r, "s3cret") || !strings.Contains(r, "/hook") {
			t.Errorf("reason %q: shows a credential, or not the endpoint", r)
		}
	}
	err = Config{Endpoints: map[string]Endpoint{"q": {URL: "ftp://alice:hunter2@h/hook?code=s3cret", SecretEnv: "S"}}}.ValidateShape()
	if err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("validation error %v: shows a credential", err)
	}
}
