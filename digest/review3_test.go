package digest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A schedule whose runs bunch together at some hour is refused, not only
// one that runs every minute all day: the check looked at one gap only.
func TestValidateRefusesBunchedRuns(t *testing.T) {
	k := Known{Channels: map[string]string{"mail": "email"}}
	for _, sched := range []string{"0-59 0 * * *", "0,1 0 * * *", "* 5 * * MON", "0,30 9 * * *", "* * 15 * *"} {
		d := Digest{Name: "x", Schedule: sched, Audience: Audience{Emails: []string{"a@example.com"}}}
		if err := Validate([]Digest{d}, k); err == nil || !strings.Contains(err.Error(), "digests run at most hourly") {
			t.Errorf("%q: %v, want refused as more than hourly", sched, err)
		}
	}
	for _, sched := range []string{"0 * * * *", "0 8 * * MON", "0 0,12 * * *", "@daily", "0 6 1 * *", "0 9 * * 1-5", "30 1,2 * * SUN"} {
		d := Digest{Name: "x", Schedule: sched, Audience: Audience{Emails: []string{"a@example.com"}, Timezone: "America/New_York"}}
		if err := Validate([]Digest{d}, k); err != nil {
			t.Errorf("%q: %v", sched, err)
		}
	}
}

// A symlink planted in the archive cannot serve a file outside it (the
// state dir's token store beside the archive, /etc/passwd), whether the
// link is a file of a period or a period's directory.
func TestArchiveOpenStaysInside(t *testing.T) {
	state := t.TempDir()
	secret := filepath.Join(state, "tokens.json")
	os.WriteFile(secret, []byte(`{"secret":"s3cr3t"}`), 0o600)
	a := Archive{Dir: filepath.Join(state, "digests")}
	until := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	period := PeriodID(until)
	dir := a.Path("legal-weekly", period)
	os.MkdirAll(dir, 0o750)
	m, _ := json.Marshal(Meta{Name: "legal weekly", Slug: "legal-weekly", Period: period, Until: until})
	os.WriteFile(filepath.Join(dir, FileMeta), m, 0o640)
	if err := os.Symlink(secret, filepath.Join(dir, "digest.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../tokens.json", filepath.Join(dir, "tokens.json")); err != nil {
		t.Fatal(err)
	}
	// A whole period directory linked outside, with its own meta.json.
	outside := filepath.Join(state, "elsewhere")
	os.MkdirAll(outside, 0o750)
	os.WriteFile(filepath.Join(outside, FileMeta), m, 0o640)
	os.WriteFile(filepath.Join(outside, FileHTML), []byte("outside"), 0o640)
	other := PeriodID(until.Add(-24 * time.Hour))
	if err := os.Symlink(outside, a.Path("legal-weekly", other)); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{period, "digest.json"}, {period, "tokens.json"}, {other, FileHTML}} {
		b, err := a.Open("legal-weekly", c[0], c[1])
		if err == nil || bytes.Contains(b, []byte("s3cr3t")) || bytes.Contains(b, []byte("outside")) {
			t.Errorf("%s/%s: %q, %v: read through a link out of the archive", c[0], c[1], b, err)
		}
	}
	// A link inside the archive still works.
	os.WriteFile(filepath.Join(dir, "terms.csv"), []byte("term\n"), 0o640)
	os.Symlink("terms.csv", filepath.Join(dir, "copy.csv"))
	if b, err := a.Open("legal-weekly", period, "copy.csv"); err != nil || string(b) != "term\n" {
		t.Errorf("a link inside: %q, %v", b, err)
	}
}
