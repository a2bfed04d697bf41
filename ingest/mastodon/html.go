package mastodon

import (
	"html"
	"strings"
)

// htmlText turns a status's HTML into plain text and collects the links
// that are neither mentions nor hashtags. Mastodon sanitises status HTML to
// a few tags (p, br, a, span), so a small scanner is enough: <br> becomes a
// newline, a paragraph break a blank line, and every other tag is dropped
// with its text kept, including the "invisible" parts of shortened links
// so the full URL stays in the text.
func htmlText(s string, links []string) (string, []string) {
	if !strings.ContainsAny(s, "<&") {
		return s, links
	}
	var b strings.Builder
	b.Grow(len(s))
	for len(s) > 0 {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(html.UnescapeString(s))
			break
		}
		b.WriteString(html.UnescapeString(s[:i]))
		s = s[i:]
		j := strings.IndexByte(s, '>')
		if j < 0 { // an unclosed tag: keep it as text rather than lose it
			b.WriteString(s)
			break
		}
		tag := s[1:j]
		s = s[j+1:]
		name, attrs, _ := strings.Cut(tag, " ")
		switch strings.ToLower(strings.TrimSuffix(name, "/")) {
		case "br":
			b.WriteByte('\n')
		case "/p":
			b.WriteString("\n\n")
		case "a":
			if href := attr(attrs, "href"); href != "" {
				class := attr(attrs, "class")
				if !strings.Contains(class, "mention") && !strings.Contains(class, "hashtag") {
					links = append(links, html.UnescapeString(href))
				}
			}
		}
	}
	return strings.TrimRight(b.String(), "\n"), links
}

// attr returns the value of a double-quoted attribute.
func attr(attrs, name string) string {
	for attrs != "" {
		i := strings.Index(attrs, name+`="`)
		if i < 0 {
			return ""
		}
		if i > 0 && attrs[i-1] != ' ' { // data-href= is not href=
			attrs = attrs[i+len(name):]
			continue
		}
		v := attrs[i+len(name)+2:]
		if j := strings.IndexByte(v, '"'); j >= 0 {
			return v[:j]
		}
		return ""
	}
	return ""
}
