package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks that the document served at
// /v1/openapi.json and the routes the server registers are the same set,
// and that each operation names the action the route checks.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	var documented []string
	actions := map[string]string{}
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method == "parameters" {
				continue
			}
			p := strings.ToUpper(method) + " " + path
			documented = append(documented, p)
			var op struct {
				Action string `json:"x-earshot-action"`
			}
			json.Unmarshal(raw, &op)
			actions[p] = op.Action
		}
	}
	e := newEnv(t)
	routes := e.srv.Routes()
	slices.Sort(documented)
	slices.Sort(routes)
	if !slices.Equal(documented, routes) {
		for _, r := range routes {
			if !slices.Contains(documented, r) {
				t.Errorf("route %s is not in openapi.json", r)
			}
		}
		for _, d := range documented {
			if !slices.Contains(routes, d) {
				t.Errorf("openapi.json has %s, which is no route", d)
			}
		}
	}
	// The action of each operation is what the route enforces: a caller
	// whose role lacks it gets 403, one who has it does not.
	for p, action := range actions {
		switch Action(action) {
		case public, "public", authenticated:
			continue
		}
		if _, ok := Permissions[Action(action)]; !ok {
			t.Errorf("%s: unknown action %q", p, action)
			continue
		}
		method, path, _ := strings.Cut(p, " ")
		path = strings.NewReplacer("{id}", "acme-gr", "{queue}", "care-emea", "{name}", "volume_by_platform").Replace(path)
		for _, role := range Roles {
			tok := e.roleToken(role)
			r := e.do(tok, method, path, "")
			if forbidden := r.code == 403 && r.errCode() == CodeForbidden; forbidden == role.Can(Action(action)) {
				t.Errorf("%s as %s: %d %s (may: %v)", p, role, r.code, r.body, role.Can(Action(action)))
			}
		}
	}
}

// roleToken returns an unscoped token of role.
func (e *env) roleToken(role Role) string {
	key := "role:" + string(role)
	if e.tok[key] == "" {
		_, secret, err := e.tokens.Create(NewToken{Name: "r-" + string(role), Role: role})
		if err != nil {
			e.t.Fatal(err)
		}
		e.tok[key] = secret
	}
	return key
}
