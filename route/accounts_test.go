package route

import (
	"strings"
	"testing"
)

// org.yaml lists the organisation's own accounts per platform, brand and
// region, checked, for the rule language's to:@owned.
func TestOwnedAccounts(t *testing.T) {
	o, err := loadOrg(t, testOrg+`
accounts:
  - {platform: x, handle: "@Acme", brand: acme, region: EMEA}
  - {platform: bluesky, handle: acme.bsky.social, brand: acme}
`)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Accounts) != 2 || o.Accounts[0].Handle != "Acme" {
		t.Errorf("accounts = %+v, want 2, handles without @", o.Accounts)
	}
	_, err = loadOrg(t, testOrg+`
accounts:
  - {platform: myspace, handle: acme}
  - {platform: x, handle: ""}
  - {platform: x, handle: acme, region: MARS}
  - {platform: x, handle: ACME}
`)
	for _, want := range []string{`accounts[0]: platform "myspace"`, `accounts[1]: handle`, `accounts[2]: region "MARS"`, `accounts[3]: x account "acme" is listed twice`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
}
