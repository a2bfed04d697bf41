package pipeline

import (
	"os"
	"path/filepath"
	"testing"
)

// Every file a configuration names is found beside the configuration file,
// wherever the process was started: a file replay's checkpoint and the
// Jetstream cursor included, which a restart must find again.
func TestLoadTakesPathsRelativeToTheFile(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"watchlists", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, body := range map[string]string{
		"watchlists/a.yaml": "id: a\nteam: t\nkeywords: [acme]\n",
		"routing.yaml":      "queues: [care]\nrules:\n  - name: all\n    queue: care\n    priority: P3\n",
		"data/in.ndjson":    "",
		"jetstream.dict":    "",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "earshot.yaml")
	body := `ingest:
  source: file
  file: {path: data/in.ndjson, checkpoint: data/in.ckpt}
  bluesky: {cursor_file: data/cursor, zstd_dictionary: jetstream.dict}
match: {watchlists: watchlists}
route: {policy: routing.yaml}
search: {dir: data/search}
api: {state_dir: data/api, tokens_file: data/tokens.json}
`
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for key, got := range map[string]string{
		"match.watchlists":               c.Match.Watchlists,
		"route.policy":                   c.Route.Policy,
		"ingest.file.path":               c.Ingest.File.Path,
		"ingest.file.checkpoint":         c.Ingest.File.Checkpoint,
		"ingest.bluesky.cursor_file":     c.Ingest.Bluesky.CursorFile,
		"ingest.bluesky.zstd_dictionary": c.Ingest.Bluesky.ZstdDictionary,
		"search.dir":                     c.Search.Dir,
		"api.state_dir":                  c.API.StateDir,
		"api.tokens_file":                c.API.TokensFile,
	} {
		if filepath.Dir(got) != dir && filepath.Dir(filepath.Dir(got)) != dir {
			t.Errorf("%s = %q, want it under %s", key, got, dir)
		}
	}
}
