package route

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/earshot-dev/earshot/post"
)

// TestAlertsMatchPublishedSchema checks real route output, encoded as it
// goes on the wire, against docs/alert.schema.json.
func TestAlertsMatchPublishedSchema(t *testing.T) {
	f, err := os.Open("../docs/alert.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("alert.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile("alert.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(Config{Policy: writeFile(t, "routing.yaml", "queues: [care]\nrules:\n  - {name: neg, when: {sentiment: [negative]}, queue: care, priority: P2}\n"), Org: writeFile(t, "org.yaml", testOrg)})
	if err != nil {
		t.Fatal(err)
	}
	it := item("acme", []string{"acme"}, "negative", "EMEA", 10)
	it.Post.CreatedAt, it.Post.IngestedAt, it.Post.Author.Handle, it.Post.Text = time.Now(), time.Now(), "someone", "acme!"
	it.Matches[0].Version = 1
	it.Enrichment.Lang, it.Enrichment.Country, it.Enrichment.Market = "en", "DE", "DACH"
	out, err := p.Stage(func() time.Time { return at("2026-11-23T16:00:00Z") })(context.Background(), post.Batch{Items: []*post.Item{it}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("stage: %v", err)
	}
	b, err := post.Encode(nil, out.Items[0])
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(v); err != nil {
		t.Errorf("alert does not match docs/alert.schema.json: %v\n%s", err, b)
	}
	// A spike alert too.
	d := newSpikeDetector(Spikes{Window: 5 * time.Minute, MinCount: 2, Factor: 2, Queue: "care", Priority: "P2"})
	t0 := at("2026-11-23T08:00:00Z")
	d.observe([]*post.Item{it}, t0)
	d.observe([]*post.Item{it, it, it, it}, t0.Add(5*time.Minute))
	spikes := d.observe(nil, t0.Add(10*time.Minute))
	if len(spikes) != 1 {
		t.Fatalf("%d spike alerts", len(spikes))
	}
	sb, _ := post.Encode(nil, spikes[0])
	sv, _ := jsonschema.UnmarshalJSON(bytes.NewReader(sb))
	if err := schema.Validate(sv); err != nil {
		t.Errorf("spike alert does not match the schema: %v\n%s", err, sb)
	}
	// And a retraction, which carries the delete record and no matches.
	ret := &post.Item{Post: &post.Post{Platform: "t", ID: "1", Kind: post.KindDelete, IngestedAt: time.Now()},
		Alert: &post.Alert{ID: out.Items[0].Alert.ID, Queue: "care-na", Priority: "P2", Rule: "retract", CreatedAt: time.Now(), Retracted: true}}
	rb, _ := post.Encode(nil, ret)
	rv, _ := jsonschema.UnmarshalJSON(bytes.NewReader(rb))
	if err := schema.Validate(rv); err != nil {
		t.Errorf("retraction does not match the schema: %v\n%s", err, rb)
	}
	// And the schema is not vacuous: a broken alert fails it.
	broken, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bytes.Replace(b, []byte(`"priority":"P2"`), []byte(`"priority":"urgent"`), 1)))
	if schema.Validate(broken) == nil {
		t.Error("an alert with priority \"urgent\" passed the schema")
	}
}
