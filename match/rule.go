package match

import (
	"github.com/earshot-dev/earshot/textnorm"

	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits keep one team's rule from slowing everyone's matching.
const (
	MaxRuleBytes = 10_000 // characters of rule text
	MaxClauses   = 1_000  // keywords, phrases and filters in one rule
	MinStemRunes = 3      // letters before a trailing * wildcard
	MaxNear      = 100    // the n of NEAR/n and "…"~n
	MaxPhraseLen = 16     // words in one phrase (each CJK character is a word)
	MaxSpans     = 100    // spans in one match: the first, in text order
)

// RuleError is a problem in a rule, at a line and column (both from 1)
// of the rule text.
type RuleError struct {
	Line, Col int
	Msg       string
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

// node is a rule after parsing.
type node struct {
	op      op
	kids    []*node
	term    *termSpec // opTerm
	tid     uint32    // opTerm: the engine's term id
	set     []uint32  // opOr: the term operands, sorted
	rest    []*node   // opOr: the other operands
	n       int       // opNear: distance in words
	ordered bool      // opNear: the first operand must come first
	field   string    // opField
	value   string    // opField
	pos     int       // byte offset in the rule, for messages
}

type op uint8

const (
	opTerm op = iota
	opAnd
	opOr
	opNot
	opNear
	opField
)

// termSpec is a keyword or phrase as written, before folding.
type termSpec struct {
	exact    bool // =word, ="phrase": case and diacritics as written
	plain    bool // ^word, ^"phrase": letters of other scripts are not read as the Latin ones they imitate
	text     string
	kind     uint8 // textnorm.KindWord (any), textnorm.KindHashtag, textnorm.KindMention
	phrase   bool
	wildcard bool // trailing *
	slop     int  // "…"~n; 0 is exact
}

// lexer token kinds
type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tPhrase
	tLParen
	tRParen
	tOr
	tAnd
	tNot
	tMinus
	tNear
)

type ltok struct {
	exact   bool // a phrase written ="…"
	plain   bool // a phrase written ^"…"
	kind    tokKind
	text    string
	pos     int
	n       int  // tNear, tPhrase (~n)
	ordered bool // tNear
}

type parser struct {
	src     string
	toks    []ltok
	i       int
	clauses int
}

func (p *parser) errAt(pos int, format string, args ...any) *RuleError {
	return errAt(p.src, pos, fmt.Sprintf(format, args...))
}

// errAt places msg at byte pos of src.
func errAt(src string, pos int, msg string) *RuleError {
	line, col := 1, 1
	for _, r := range src[:min(pos, len(src))] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &RuleError{Line: line, Col: col, Msg: msg}
}

// parseRule parses rule text into a tree.
func parseRule(src string) (*node, error) {
	p := &parser{src: src}
	if len(src) > MaxRuleBytes {
		return nil, p.errAt(MaxRuleBytes, "the rule is %d characters long; the limit is %d. Split it into several watchlists", len(src), MaxRuleBytes)
	}
	if err := p.lex(); err != nil {
		return nil, err
	}
	if len(p.toks) == 1 {
		return nil, p.errAt(0, "the rule is empty: write at least one keyword")
	}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tRParen {
			return nil, p.errAt(t.pos, "this ) has no ( before it")
		}
		return nil, p.errAt(t.pos, "unexpected %q", t.text)
	}
	return n, nil
}

func (p *parser) lex() error {
	s := p.src
	exact, plain := false, false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += n
		case r == '(':
			p.toks = append(p.toks, ltok{kind: tLParen, text: "(", pos: i})
			i++
		case r == ')':
			p.toks = append(p.toks, ltok{kind: tRParen, text: ")", pos: i})
			i++
		case r == '=' && i+1 < len(s) && strings.ContainsRune("\"“”", []rune(s[i+1:])[0]):
			exact = true // ="phrase": the quote comes next
			i++
		case r == '^' && i+1 < len(s) && strings.ContainsRune("\"“”", []rune(s[i+1:])[0]):
			plain = true // ^"phrase": the quote comes next
			i++
		case r == '"' || r == '“' || r == '”':
			start := i
			i += n
			j := strings.IndexAny(s[i:], "\"“”")
			if j < 0 {
				return p.errAt(start, "this quote is never closed: add a \" after the phrase")
			}
			text := s[i : i+j]
			_, qn := utf8.DecodeRuneInString(s[i+j:])
			i += j + qn
			t := ltok{kind: tPhrase, text: text, pos: start, exact: exact, plain: plain}
			exact, plain = false, false
			if i < len(s) && s[i] == '~' {
				k := i + 1
				for k < len(s) && s[k] >= '0' && s[k] <= '9' {
					k++
				}
				v, err := strconv.Atoi(s[i+1 : k])
				if err != nil || v < 1 || v > MaxNear {
					return p.errAt(i, "after ~ write a distance in words from 1 to %d, as in \"nike shoes\"~5", MaxNear)
				}
				t.n, i = v, k
			}
			if strings.TrimSpace(text) == "" {
				return p.errAt(start, "the phrase is empty")
			}
			p.toks = append(p.toks, t)
		case r == '-' && i+1 < len(s) && !unicode.IsSpace(rune(s[i+1])) && (i == 0 || unicode.IsSpace(rune(s[i-1])) || s[i-1] == '('):
			p.toks = append(p.toks, ltok{kind: tMinus, text: "-", pos: i})
			i++
		default:
			start := i
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if unicode.IsSpace(r) || r == '(' || r == ')' || r == '"' || r == '“' || r == '”' {
					break
				}
				i += n
			}
			w := s[start:i]
			t := ltok{kind: tWord, text: w, pos: start}
			switch {
			case w == "OR" || w == "|":
				t.kind = tOr
			case w == "AND" || w == "&":
				t.kind = tAnd
			case w == "NOT":
				t.kind = tNot
			case strings.HasPrefix(w, "NEAR/"):
				num := strings.TrimSuffix(w[5:], "f")
				v, err := strconv.Atoi(num)
				if err != nil || v < 1 || v > MaxNear {
					return p.errAt(start, "write NEAR/n with n a distance in words from 1 to %d, as in nike NEAR/5 shoes (NEAR/5f: in that order)", MaxNear)
				}
				t.kind, t.n, t.ordered = tNear, v, strings.HasSuffix(w, "f")
			}
			p.toks = append(p.toks, t)
		}
	}
	p.toks = append(p.toks, ltok{kind: tEOF, pos: len(s)})
	return nil
}

func (p *parser) peek() ltok { return p.toks[p.i] }
func (p *parser) next() ltok { t := p.toks[p.i]; p.i++; return t }

func (p *parser) or() (*node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	n := &node{op: opOr, kids: []*node{left}, pos: left.pos}
	for p.peek().kind == tOr {
		t := p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		if right == nil {
			return nil, p.errAt(t.pos, "OR needs something on its right")
		}
		n.kids = append(n.kids, right)
	}
	if len(n.kids) == 1 {
		return left, nil
	}
	return n, nil
}

func (p *parser) and() (*node, error) {
	n := &node{op: opAnd, pos: p.peek().pos}
	for {
		t := p.peek()
		switch t.kind {
		case tEOF, tRParen, tOr:
			switch len(n.kids) {
			case 0:
				if t.kind == tEOF {
					return nil, p.errAt(t.pos, "the rule ends where a keyword was expected")
				}
				return nil, p.errAt(t.pos, "a keyword is missing before %q", t.text)
			case 1:
				return n.kids[0], nil
			}
			return n, nil
		case tAnd:
			p.next()
			if k := p.peek().kind; k == tEOF || k == tRParen || k == tOr || len(n.kids) == 0 {
				return nil, p.errAt(t.pos, "AND needs a keyword on both sides")
			}
			continue
		}
		u, err := p.unary()
		if err != nil {
			return nil, err
		}
		n.kids = append(n.kids, u)
	}
}

func (p *parser) unary() (*node, error) {
	t := p.peek()
	if t.kind == tNot || t.kind == tMinus {
		p.next()
		if k := p.peek().kind; k == tEOF || k == tRParen || k == tOr || k == tAnd {
			return nil, p.errAt(t.pos, "%s needs a keyword after it", strings.TrimSpace(t.text))
		}
		k, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &node{op: opNot, kids: []*node{k}, pos: t.pos}, nil
	}
	return p.near()
}

func (p *parser) near() (*node, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tNear {
		t := p.next()
		right, err := p.primary()
		if err != nil {
			return nil, err
		}
		for _, side := range []*node{left, right} {
			if side.op != opTerm || side.term.slop > 0 {
				return nil, p.errAt(t.pos, "NEAR joins two keywords, wildcards or \"exact phrases\", not groups or filters")
			}
		}
		left = &node{op: opNear, kids: []*node{left, right}, n: t.n, ordered: t.ordered, pos: left.pos}
	}
	return left, nil
}

var fields = map[string]string{
	"from": "an author handle", "lang": "a language code such as el", "country": "a country code such as GR",
	"platform": "a platform such as bluesky", "has": "link, media, mention or hashtag", "is": "reply, repost or quote",
	"region":    "a region such as EMEA",
	"market":    "a market of org.yaml such as DACH",
	"to":        "an account handle, or @owned for the organisation's own accounts (org.yaml accounts)",
	"followers": "a comparison such as >=1000", "url": "a domain or part of a link",
}

func (p *parser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tRParen {
			return nil, p.errAt(t.pos, "this ( is never closed: add a )")
		}
		return n, nil
	case tPhrase:
		return p.termNode(&termSpec{text: t.text, phrase: true, slop: t.n, exact: t.exact, plain: t.plain}, t.pos)
	case tWord:
		w := t.text
		if i := strings.IndexByte(w, ':'); i > 0 && !strings.Contains(w, "://") {
			name, value := strings.ToLower(w[:i]), w[i+1:]
			what, ok := fields[name]
			if !ok {
				return nil, p.errAt(t.pos, "unknown filter %q; filters are from:, lang:, country:, region:, platform:, has:, is:, followers: and url:", name+":")
			}
			if err := checkField(name, value); err != nil {
				return nil, p.errAt(t.pos+i+1, "%s: expected %s", err, what)
			}
			p.clauses++
			return &node{op: opField, field: name, value: value, pos: t.pos}, nil
		}
		spec := &termSpec{text: w}
		if w[0] == '^' && len(w) > 1 {
			spec.plain, w, spec.text = true, w[1:], w[1:]
		}
		if w[0] == '=' && len(w) > 1 {
			spec.exact, w, spec.text = true, w[1:], w[1:]
		}
		switch w[0] {
		case '#':
			spec.kind, spec.text = textnorm.KindHashtag, w[1:]
		case '@':
			spec.kind, spec.text = textnorm.KindMention, w[1:]
		}
		if strings.HasSuffix(spec.text, "*") {
			spec.wildcard, spec.text = true, strings.TrimRight(spec.text, "*")
		}
		if strings.Contains(spec.text, "*") {
			return nil, p.errAt(t.pos, "a wildcard * may only end a word, as in refund*")
		}
		return p.termNode(spec, t.pos)
	case tEOF:
		return nil, p.errAt(t.pos, "the rule ends where a keyword was expected")
	case tRParen:
		return nil, p.errAt(t.pos, "a keyword is missing before this )")
	}
	return nil, p.errAt(t.pos, "a keyword is missing before %q", t.text)
}

func (p *parser) termNode(spec *termSpec, pos int) (*node, error) {
	p.clauses++
	if p.clauses > MaxClauses {
		return nil, p.errAt(pos, "the rule has more than %d keywords and filters; split it into several watchlists", MaxClauses)
	}
	return &node{op: opTerm, term: spec, pos: pos}, nil
}

func checkField(name, value string) error {
	if value == "" {
		return fmt.Errorf("%s: is empty", name)
	}
	switch name {
	case "has":
		switch value {
		case "link", "media", "mention", "hashtag":
			return nil
		}
		return fmt.Errorf("has:%s is not known", value)
	case "is":
		switch value {
		case "reply", "repost", "quote":
			return nil
		}
		return fmt.Errorf("is:%s is not known", value)
	case "followers":
		if _, _, err := parseCompare(value); err != nil {
			return err
		}
	}
	return nil
}

// parseCompare reads ">=1000", ">1000", "<=10", "<10", "=5" or "5".
func parseCompare(v string) (string, int64, error) {
	cmp := "="
	for _, c := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(v, c) {
			cmp, v = c, v[len(c):]
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return "", 0, fmt.Errorf("followers:%s is not a comparison", v)
	}
	return cmp, n, nil
}
