package mailaddr

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		list []string
		want string // "" for none
	}{
		{[]string{"a@x.org", "b@x.org", "Bee <c@x.org>"}, ""},
		{[]string{"a@m\u00fcnchen.de", "a@\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444", "a@\u03b5\u03bb.gr"}, ""},
		{[]string{"a@x.org", "a@x.org"}, `"a@x.org" is given twice`},
		{[]string{"a@x.org", "A@X.ORG"}, `"A@X.ORG" is given twice`},
		{[]string{"a@x.org", "Ann <a@x.org>"}, `"Ann <a@x.org>" is given twice`},
		{[]string{"a@ex\u0430mple.com"}, "label \"ex\u0430mple\""},             // Cyrillic а among Latin
		{[]string{"a@\u0435\u0445\u0430.com"}, "label \"\u0435\u0445\u0430\""}, // all look-alikes
		{[]string{"a@\u03bf\u03bf.com"}, "look-alikes"},                        // Greek ο ο
		{[]string{"a@exa\u200bmple.com"}, "invisible character U+200B"},
		{[]string{"a@example.com\u202e"}, "invisible"},
		{[]string{"not an address"}, ""}, // the caller's to report
	} {
		errs := Check(tc.list)
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%q: %v", tc.list, errs)
		case tc.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want)):
			t.Errorf("%q: %v, want one error with %q", tc.list, errs, tc.want)
		}
	}
}

func FuzzDomain(f *testing.F) {
	for _, s := range []string{"example.com", "ex\u0430mple.com", "m\u00fcnchen.de", "", ".", "a..b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Domain(s) // never panics
	})
}
