package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testPolicy = "queues: [care, pr]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P3}\n"

// TestRoutingChange: a coach proposes a routing change against the
// version in force, another approves it, the files change atomically and
// the audit log has before and after; the checks refuse what they should.
func TestRoutingChange(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "routing.yaml")
	os.WriteFile(policy, []byte(testPolicy), 0o644)
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Routing = &RoutingFiles{Policy: policy, Proposal: filepath.Join(dir, "routing-proposal.json")}
	})
	var view RoutingView
	r := e.do("viewer", "GET", "/v1/routing", "")
	if r.code != 200 || json.Unmarshal(r.body, &view) != nil || view.Policy != testPolicy || view.Version == "" {
		t.Fatalf("GET: %d %s", r.code, r.body)
	}
	changed := strings.Replace(testPolicy, "queue: care, priority: P3", "queue: pr, priority: P1", 1)
	body := func(p, version string) string {
		b, _ := json.Marshal(map[string]string{"policy": p, "if_version": version, "note": "negative goes to PR"})
		return string(b)
	}
	approval := `{"if_version":"` + routingVersion(RoutingSet{Policy: changed}) + `","note":"ok"}`
	for _, c := range []struct {
		name, caller, method, path, body string
		code                             int
		want                             string
	}{
		{"validate a broken policy", "coach", "POST", "/v1/routing/validate", `{"policy":"queues: [care]\nrules:\n  - {name: a, queue: nowhere, priority: P1}\n"}`, 422, "routing.yaml:3"},
		{"validate", "coach", "POST", "/v1/routing/validate", `{"policy":` + jsonString(changed) + `}`, 200, `"valid":true`},
		{"propose may not (gatherer)", "gatherer-gr", "PUT", "/v1/routing/proposal", body(changed, view.Version), 403, CodeForbidden},
		{"propose may not (team-scoped coach)", "coach-gr", "PUT", "/v1/routing/proposal", body(changed, view.Version), 403, CodeOutOfScope},
		{"propose against another version", "coach", "PUT", "/v1/routing/proposal", body(changed, "0123"), 409, CodeConflict},
		{"propose an org without an org file", "coach", "PUT", "/v1/routing/proposal", `{"policy":` + jsonString(changed) + `,"org":"regions: {}","if_version":"` + view.Version + `"}`, 422, "organisation file"},
		{"approve with nothing pending", "admin", "POST", "/v1/routing/proposal/approve", "", 404, CodeNotFound},
		{"propose", "coach", "PUT", "/v1/routing/proposal", body(changed, view.Version), 200, `"by":"cora"`},
		{"the proposal shows", "analyst", "GET", "/v1/routing", "", 200, `"proposal"`},
		{"approve own proposal", "coach", "POST", "/v1/routing/proposal/approve", approval, 403, CodeSelfApproval},
		{"approve may not (analyst)", "analyst", "POST", "/v1/routing/proposal/approve", "", 403, CodeForbidden},
		{"approve", "admin", "POST", "/v1/routing/proposal/approve", approval, 200, `"version"`},
		{"approve again", "admin", "POST", "/v1/routing/proposal/approve", approval, 404, CodeNotFound},
	} {
		r := e.do(c.caller, c.method, c.path, c.body)
		if r.code != c.code || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s: %d %s; want %d with %q", c.name, r.code, r.body, c.code, c.want)
		}
	}
	if b, _ := os.ReadFile(policy); string(b) != changed {
		t.Errorf("policy file after the approval:\n%s", b)
	}
	if fi, err := os.Stat(policy); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("policy file mode after the approval: %v %v, want 0644 kept (the route stage may run as another user)", fi.Mode(), err)
	}
	recs, _, err := ReadAuditFile(e.audit.Path(), func(r AuditRecord) bool { return r.ObjectType == "routing_policy" }, 0, 10)
	if err != nil || len(recs) != 2 || recs[0].Action != "routing.propose" || recs[1].Action != "routing.approve" || recs[1].Actor != "ada" ||
		!strings.Contains(string(recs[1].Before), "priority: P3") || !strings.Contains(string(recs[1].After), "priority: P1") {
		t.Errorf("audit: %v %+v", err, recs)
	}

	// A change made against a version that moved on is refused at approval.
	r = e.do("viewer", "GET", "/v1/routing", "")
	json.Unmarshal(r.body, &view)
	if r := e.do("coach", "PUT", "/v1/routing/proposal", body(testPolicy, view.Version)); r.code != 200 {
		t.Fatalf("second proposal: %d %s", r.code, r.body)
	}
	os.WriteFile(policy, []byte(testPolicy+"# edited in git meanwhile\n"), 0o644)
	if r := e.do("admin", "POST", "/v1/routing/proposal/approve", `{"if_version":"`+routingVersion(RoutingSet{Policy: testPolicy})+`"}`); r.code != 409 || !strings.Contains(string(r.body), "changed since") {
		t.Errorf("stale approval: %d %s", r.code, r.body)
	}
	if r := e.do("admin", "POST", "/v1/routing/proposal/reject", `{"note":"stale"}`); r.code != 200 {
		t.Errorf("reject: %d %s", r.code, r.body)
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

// Warnings name the files as the caller knows them, not the scratch copies
// the check loads.
func TestRoutingWarningsNameTheRealFiles(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "routing.yaml")
	os.WriteFile(policy, []byte(testPolicy), 0o644)
	e := newEnv(t, func(_ *Config, d *Deps) {
		d.Routing = &RoutingFiles{Policy: policy, Proposal: filepath.Join(dir, "routing-proposal.json")}
	})
	overlapping := "queues: [care, pr]\nrules:\n  - {name: pr, when: {min_followers: 10}, queue: pr, priority: P1}\n" +
		"  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P3}\n"
	r := e.do("coach", "POST", "/v1/routing/validate", `{"policy":`+jsonString(overlapping)+`}`)
	var v struct {
		Warnings []string `json:"warnings"`
	}
	if r.code != 200 || json.Unmarshal(r.body, &v) != nil || len(v.Warnings) == 0 {
		t.Fatalf("validate: %d %s, want 200 with a warning", r.code, r.body)
	}
	for _, w := range v.Warnings {
		if !strings.HasPrefix(w, "routing.yaml:") {
			t.Errorf("warning %q, want it to start with routing.yaml:", w)
		}
	}
}
