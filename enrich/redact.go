package enrich

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// redactPII masks e-mail addresses as "[email]" and phone numbers as
// "[phone]". A phone number is a run of digits and separators (space, '-',
// '.', parentheses) with 9 to 15 digits, or 8 after a '+', so dates such as
// 2024-01-15 stay.
func redactPII(text string) string {
	var b strings.Builder
	changed := false
	for i := 0; i < len(text); {
		if n := emailAt(text, i); n > 0 {
			b.WriteString("[email]")
			i += n
			changed = true
			continue
		}
		if n := phoneAt(text, i); n > 0 {
			b.WriteString("[phone]")
			i += n
			changed = true
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		b.WriteRune(r)
		i += size
		// skip to the end of a word so that matches start at boundaries
		for i < len(text) {
			r, size = utf8.DecodeRuneInString(text[i:])
			if !isWordRune(r) || !isWordRune(lastRune(text[:i])) {
				break
			}
			b.WriteRune(r)
			i += size
		}
	}
	if !changed {
		return text
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' }

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func isLocalRune(r rune) bool {
	return isWordRune(r) || strings.ContainsRune(".+-%", r)
}

// emailAt returns the length of an e-mail address starting at text[i].
func emailAt(text string, i int) int {
	j := i
	for j < len(text) {
		r, size := utf8.DecodeRuneInString(text[j:])
		if !isLocalRune(r) {
			break
		}
		j += size
	}
	if j == i || j >= len(text) || text[j] != '@' {
		return 0
	}
	k, dots, lastDot := j+1, 0, -1
	for k < len(text) {
		r, size := utf8.DecodeRuneInString(text[k:])
		if r == '.' {
			dots++
			lastDot = k
		} else if !isWordRune(r) && r != '-' {
			break
		}
		k += size
	}
	for k > j+1 && text[k-1] == '.' { // a full stop after the address
		k--
		dots--
	}
	lastDot = j + 1 + strings.LastIndexByte(text[j+1:k], '.')
	if dots == 0 || lastDot <= j+1 || k-lastDot < 3 {
		return 0
	}
	return k - i
}

// phoneAt returns the length of a phone number starting at text[i].
func phoneAt(text string, i int) int {
	if i > 0 {
		if r := lastRune(text[:i]); isWordRune(r) || strings.ContainsRune("#@/=", r) {
			return 0 // part of a word, a tag, a handle or a URL
		}
	}
	plus := text[i] == '+'
	j, digits, end := i, 0, i
	if plus {
		j++
	}
	for j < len(text) {
		c := text[j]
		switch {
		case c >= '0' && c <= '9':
			digits++
			j++
			end = j
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
			j++
		default:
			goto done
		}
	}
done:
	if end < len(text) && isWordRune(rune(text[end])) {
		return 0
	}
	if digits > 15 || digits < 9 && !(plus && digits >= 8) {
		return 0
	}
	if !plus && (text[i] < '0' || text[i] > '9') && text[i] != '(' {
		return 0
	}
	return end - i
}
