package canon

import "testing"

// BenchmarkScanKeys is the structural check every line passes first, on a
// canonical post and on a Jetstream commit (camel-case keys, nested).
func BenchmarkScanKeys(b *testing.B) {
	for _, c := range []struct{ name, line string }{
		{"canonical", `{"platform":"bluesky","id":"3kabc","author":{"id":"did:plc:abc","handle":"someone.bsky.social","name":"Some One","followers":1200},"text":"acme charged me twice for the same order, I want a refund now","created_at":"2026-11-01T10:00:00Z","lang":"en","hashtags":["acme","refund"],"urls":["https://example.com/x"],"source":"push:crm"}`},
		{"jetstream", `{"did":"did:plc:a","time_us":1763719200000000,"kind":"commit","commit":{"rev":"3l3qo2vuowo2b","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vutsw2b","record":{"$type":"app.bsky.feed.post","createdAt":"2026-11-01T10:00:00.000Z","langs":["en"],"text":"acme charged me twice for the same order, I want a refund now","facets":[{"index":{"byteStart":0,"byteEnd":4},"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"acme"}]}]},"cid":"bafyreib"}}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			line := []byte(c.line)
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if _, err := ScanKeys(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
