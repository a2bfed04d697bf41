package api

import (
	"bytes"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// TestResponsesMatchSchemas validates real answers against the schemas of
// openapi.json (OpenAPI 3.1 schemas are JSON Schema 2020-12).
func TestResponsesMatchSchemas(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(OpenAPI()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	schema := func(name string) *jsonschema.Schema {
		s, err := c.Compile("openapi.json#/components/schemas/" + name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return s
	}
	e := newEnv(t)
	e.do("gatherer-gr", "POST", "/v1/watchlists/acme-gr/submit", "")
	e.do("coach-gr", "POST", "/v1/watchlists/acme-gr/approve", `{"if_version":1}`)
	e.alerts.Add(Alert{ID: "a3", Queue: "care-emea", Priority: "P1", Rule: "r", PostKey: "x/1", Item: []byte(`{"v":1}`)})
	cases := []struct{ caller, method, path, body, schema string }{
		{"admin", "GET", "/v1/whoami", "", "Identity"},
		{"gatherer-gr", "GET", "/v1/watchlists/acme-gr", "", "Record"},
		{"analyst", "GET", "/v1/watchlists", "", "Page"},
		{"viewer", "GET", "/v1/watchlists/acme-gr/history", "", "Page"},
		{"responder-emea", "GET", "/v1/queues/care-emea/alerts", "", "Page"},
		{"responder-emea", "POST", "/v1/queues/care-emea/alerts/a3/ack", "", "Alert"},
		{"analyst", "POST", "/v1/insights/volume_by_platform", "", "Table"},
		{"admin", "GET", "/v1/audit", "", "Page"},
		{"viewer", "GET", "/v1/watchlists/nope", "", "ErrorBody"},
		{"", "GET", "/v1/whoami", "", "ErrorBody"},
		{"gatherer-gr", "POST", "/v1/watchlists", "{", "ErrorBody"},
	}
	for _, k := range cases {
		r := e.do(k.caller, k.method, k.path, k.body)
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("%s %s: %v: %s", k.method, k.path, err, r.body)
		}
		if err := schema(k.schema).Validate(v); err != nil {
			t.Errorf("%s %s (%d) is not a %s: %v\n%s", k.method, k.path, r.code, k.schema, err, r.body)
		}
	}
	// And the items of the pages, by their own schemas.
	for _, k := range []struct{ caller, path, schema string }{
		{"analyst", "/v1/watchlists", "Record"}, {"viewer", "/v1/watchlists/acme-gr/history", "Change"},
		{"responder-emea", "/v1/queues/care-emea/alerts", "Alert"}, {"responder-emea", "/v1/queues", "Queue"}, {"admin", "/v1/audit", "AuditRecord"},
	} {
		r := e.do(k.caller, "GET", k.path, "")
		v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(r.body))
		items, _ := v.(map[string]any)["items"].([]any)
		if len(items) == 0 {
			t.Errorf("%s: no items to check", k.path)
		}
		for _, it := range items {
			if err := schema(k.schema).Validate(it); err != nil {
				t.Errorf("%s: an item is not a %s: %v", k.path, k.schema, err)
			}
		}
	}
}
