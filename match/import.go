package match

import (
	"fmt"
	"regexp"
	"strings"
)

// Importers turn rules written for other tools into earshot's language, so
// teams can bring the rules they have. Both source languages are close to
// ours (space is AND, OR, -, quotes, parentheses, proximity); what differs
// is the names of the filters. An operator with no equivalent is an error
// naming it, never dropped silently: dropping a filter widens a rule.

var powertrackFields = map[string]string{
	"from": "from", "lang": "lang", "url": "url", "url_contains": "url", "place_country": "country",
	"is:retweet": "is:repost", "is:reply": "is:reply", "is:quote": "is:quote",
	"has:links": "has:link", "has:mentions": "has:mention", "has:hashtags": "has:hashtag",
	"has:media": "has:media", "has:images": "has:media", "has:videos": "has:media", "has:video_link": "has:media",
	"followers_count": "followers",
}

var brandwatchFields = map[string]string{
	"author": "from", "language": "lang", "lang": "lang", "country": "country", "site": "url", "links": "url", "url": "url",
}

var (
	fieldToken = regexp.MustCompile(`^(-?)([A-Za-z_]+):(.+)$`)
	rangeValue = regexp.MustCompile(`^(\d+)\.\.(\d+)$`)
)

// ImportRule converts rule from syntax ("powertrack" or "brandwatch").
func ImportRule(syntax, rule string) (string, error) {
	var fields map[string]string
	switch syntax {
	case "powertrack":
		fields = powertrackFields
	case "brandwatch":
		fields = brandwatchFields
	default:
		return "", fmt.Errorf("unknown rule syntax %q: want powertrack or brandwatch", syntax)
	}
	var out []string
	var problems []string
	for _, tok := range splitKeepingQuotes(rule) {
		m := fieldToken.FindStringSubmatch(tok)
		if m == nil || strings.HasPrefix(tok, "\"") {
			if syntax == "brandwatch" && strings.ContainsAny(strings.Trim(tok, "()"), "?") && !strings.HasPrefix(tok, "\"") {
				problems = append(problems, fmt.Sprintf("%q: the single-letter wildcard ? has no equivalent; write the spellings out with OR", tok))
			}
			out = append(out, tok)
			continue
		}
		neg, name, value := m[1], strings.ToLower(m[2]), m[3]
		open := strings.Count(value, "(") - strings.Count(value, ")")
		value = strings.TrimRight(value, ")")
		// the closing parentheses that end groups, not the value ("a(b" opens one it never closes)
		closing := strings.Repeat(")", max(strings.Count(m[3], ")")-max(open, 0), 0))
		if to, ok := fields[name+":"+strings.ToLower(value)]; ok {
			out = append(out, neg+to+closing)
			continue
		}
		to, ok := fields[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("%q: the %s operator %s: has no equivalent in earshot", tok, syntax, name))
			continue
		}
		if to == "followers" {
			if r := rangeValue.FindStringSubmatch(value); r != nil {
				out = append(out, neg+"followers:>="+r[1]+" "+neg+"followers:<="+r[2]+closing)
			} else {
				out = append(out, neg+"followers:>="+value+closing)
			}
			continue
		}
		out = append(out, neg+to+":"+value+closing)
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("cannot import: %s", strings.Join(problems, "; "))
	}
	converted := strings.Join(out, " ")
	if _, err := parseRule(converted); err != nil {
		return "", fmt.Errorf("the imported rule %q does not parse: %w", converted, err)
	}
	return converted, nil
}

// splitKeepingQuotes splits on white space, keeping "quoted phrases" (with
// a ~n suffix) whole.
func splitKeepingQuotes(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case !quoted && (r == ' ' || r == '\t' || r == '\n'):
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
