// Package sameword holds the table of hostile words that match, enrichment
// and search must all read as "the same word" (see package textnorm). It is
// for tests: each of the three packages checks the table against itself.
package sameword

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

//go:embed sameword.txt
var table string

// Case is one row: a rule keyword, and a post in language Lang that the
// rule matches.
type Case struct {
	Name, Lang, Keyword, Post string
}

// Cases parses the table.
func Cases() ([]Case, error) {
	var cs []Case
	for n, line := range strings.Split(table, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			return nil, fmt.Errorf("sameword.txt:%d: %d columns, want 4", n+1, len(f))
		}
		kw, err1 := strconv.Unquote(f[2])
		p, err2 := strconv.Unquote(f[3])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("sameword.txt:%d: keyword or post not Go-quoted", n+1)
		}
		cs = append(cs, Case{Name: f[0], Lang: f[1], Keyword: kw, Post: p})
	}
	return cs, nil
}
