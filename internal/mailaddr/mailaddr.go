// Package mailaddr checks a configured list of recipients' email
// addresses for what net/mail accepts but a reader would not: the same
// person twice, and a domain that reads as another.
package mailaddr

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"github.com/earshot-dev/earshot/textnorm"
)

// Check returns one error per problem of list, each naming the entry as
// written: an address given twice, compared without regard to case
// ("a@x.org" and "A@X.org" reach one mailbox at every provider that
// matters, and one message would list both), or whose domain holds an
// invisible character or a label that reads as a Latin one while it is
// not (see Domain). An entry net/mail cannot parse is the caller's to
// report, and skipped here.
func Check(list []string) []error {
	var errs []error
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		a, err := mail.ParseAddress(e)
		if err != nil {
			continue
		}
		key := strings.ToLower(a.Address)
		if seen[key] {
			errs = append(errs, fmt.Errorf("%q is given twice (addresses are compared without regard to case): give each recipient once", e))
			continue
		}
		seen[key] = true
		if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
			if err := Domain(a.Address[at+1:]); err != nil {
				errs = append(errs, fmt.Errorf("%q: %w", e, err))
			}
		}
	}
	return errs
}

// Domain refuses a domain that reads as another: one with an invisible
// or bidi character, a label mixing Latin letters with Cyrillic or Greek
// look-alikes ("exаmple", a Cyrillic а), or a label wholly of look-alikes
// ("еха", Cyrillic, reads "exa"). These are the IDNA mixed-script and
// whole-script confusable rules, narrowed to the scripts textnorm knows
// imitate Latin. A label wholly in one script that is not all look-alikes
// ("münchen", "пример") is a domain.
func Domain(d string) error {
	for _, r := range d {
		if textnorm.Ignorable(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) {
			return fmt.Errorf("its domain holds the invisible character %U", r)
		}
	}
	for _, label := range strings.Split(d, ".") {
		if sc := textnorm.Scripts(label); sc.LookAlike && (sc.Latin || !sc.Other) {
			return fmt.Errorf("its domain's label %q reads as Latin letters but holds Cyrillic or Greek look-alikes: write the domain in one script", label)
		}
	}
	return nil
}
