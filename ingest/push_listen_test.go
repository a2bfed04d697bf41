package ingest

import (
	"net"
	"strings"
	"testing"
)

// A taken push address stops the process with the setting that moves it,
// as the metrics and API addresses do (two `earshot run` side by side).
func TestListenPushTakenAddressNamesTheSetting(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addr := held.Addr().String()
	p := testPush(t, func(c *PushConfig) { c.Addr = addr })
	s, err := ListenPush(p)
	if err == nil {
		s.srv.Close()
		t.Fatalf("ListenPush on the taken %s: no error", addr)
	}
	for _, want := range []string{addr, "ingest.push.addr", "127.0.0.1:0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
