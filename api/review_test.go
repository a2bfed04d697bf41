package api

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/earshot-dev/earshot/watchlist"
)

// TestApproveNamesTheVersionReviewed is the walk: a gatherer
// submits v2, a coach reads v2, the gatherer edits to v3 and submits again;
// the coach's approval of v2 must not make v3 live. An approval names the
// version reviewed (if_version), and is refused (409) when it is not the
// one pending; one that names none is refused (400).
func TestApproveNamesTheVersionReviewed(t *testing.T) {
	st, err := watchlist.Open(t.TempDir(), watchlist.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newEnv(t, func(_ *Config, d *Deps) { d.Watchlists = st })
	spec := func(kw string) string {
		return `{"id":"acme-el","team":"greece","regions":["EMEA"],"keywords":[` + kw + `]}`
	}
	step := func(caller, method, path, body string, want int, code string) []byte {
		t.Helper()
		r := e.do(caller, method, path, body)
		if r.code != want || r.errCode() != code {
			t.Fatalf("%s %s as %s (%s): %d %s, want %d %s", method, path, caller, body, r.code, r.body, want, code)
		}
		return r.body
	}
	step("gatherer-gr", "POST", "/v1/watchlists", spec(`"acme"`), 201, "")
	step("gatherer-gr", "PUT", "/v1/watchlists/acme-el", `{"if_version":1,"spec":`+spec(`"acme","acme hellas"`)+`}`, 200, "")
	step("gatherer-gr", "POST", "/v1/watchlists/acme-el/submit", "", 200, "")
	var read watchlist.Record
	json.Unmarshal(step("coach-gr", "GET", "/v1/watchlists/acme-el", "", 200, ""), &read)
	if read.Version != 2 {
		t.Fatalf("the coach read version %d, want 2", read.Version)
	}
	step("gatherer-gr", "PUT", "/v1/watchlists/acme-el", `{"if_version":2,"spec":`+spec(`"the","a","i"`)+`}`, 200, "")
	step("gatherer-gr", "POST", "/v1/watchlists/acme-el/submit", "", 200, "")

	step("coach-gr", "POST", "/v1/watchlists/acme-el/approve", `{"note":"lgtm"}`, 400, CodeBadRequest)
	step("coach-gr", "POST", "/v1/watchlists/acme-el/approve", "", 400, CodeBadRequest)
	step("coach-gr", "POST", "/v1/watchlists/acme-el/approve", fmt.Sprintf(`{"if_version":%d,"note":"lgtm"}`, read.Version), 409, CodeConflict)
	if r, _ := st.Get("acme-el"); r.Live != nil {
		t.Fatalf("version %d is live, which nobody reviewed", r.LiveVersion)
	}
	// a reject names what it refuses too, when it names anything
	step("coach-gr", "POST", "/v1/watchlists/acme-el/reject", `{"if_version":2}`, 409, CodeConflict)
	step("coach-gr", "POST", "/v1/watchlists/acme-el/approve", `{"if_version":3,"note":"read v3"}`, 200, "")
	if r, _ := st.Get("acme-el"); r.Live == nil || r.LiveVersion != 3 {
		t.Fatalf("after approving v3: %+v", r)
	}
}

// TestRoutingApproveNamesTheProposalReviewed: the proposer replaces the
// proposal after the reviewer read it; the reviewer's approval of what they
// read must not write the replacement.
func TestRoutingApproveNamesTheProposalReviewed(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "routing.yaml")
	os.WriteFile(policy, []byte(testPolicy), 0o644)
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Routing = &RoutingFiles{Policy: policy, Proposal: filepath.Join(dir, "routing-proposal.json")}
	})
	var view RoutingView
	json.Unmarshal(e.do("viewer", "GET", "/v1/routing", "").body, &view)
	propose := func(p string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"policy": p, "if_version": view.Version})
		if r := e.do("coach", "PUT", "/v1/routing/proposal", string(b)); r.code != 200 {
			t.Fatalf("propose: %d %s", r.code, r.body)
		}
	}
	reviewed := strings.Replace(testPolicy, "priority: P3", "priority: P2", 1)
	propose(reviewed)
	var read RoutingView
	json.Unmarshal(e.do("admin", "GET", "/v1/routing", "").body, &read)
	if read.Proposal == nil || read.Proposal.Version == "" {
		t.Fatalf("the proposal shows no version: %+v", read.Proposal)
	}
	propose(strings.Replace(testPolicy, "queue: care, priority: P3", "queue: pr, priority: P1", 1))
	for _, c := range []struct {
		body string
		code int
	}{
		{`{"note":"ok"}`, 400},
		{"", 400},
		{`{"if_version":"` + read.Proposal.Version + `"}`, 409},
	} {
		if r := e.do("admin", "POST", "/v1/routing/proposal/approve", c.body); r.code != c.code {
			t.Errorf("approve %s: %d %s, want %d", c.body, r.code, r.body, c.code)
		}
	}
	if b, _ := os.ReadFile(policy); string(b) != testPolicy {
		t.Fatalf("the policy changed to one nobody reviewed:\n%s", b)
	}
	json.Unmarshal(e.do("admin", "GET", "/v1/routing", "").body, &read)
	if r := e.do("admin", "POST", "/v1/routing/proposal/approve", `{"if_version":"`+read.Proposal.Version+`"}`); r.code != 200 {
		t.Fatalf("approve of the version read: %d %s", r.code, r.body)
	}
}
