package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"unicode"
)

// shBlock is a shell block of the docs; inlineCode an inline code span.
var (
	shBlock    = regexp.MustCompile("(?ms)^ *```(?:sh|bash|shell)\n(.*?)^ *```")
	inlineCode = regexp.MustCompile("`(?:\\./bin/)?earshot [^`]+`")
)

// docCommandLines are the earshot command lines of README.md, docs/ and
// the READMEs of deploy/local and deploy/grafana:
// every command of a shell block (continuations joined, split at ;, &&,
// ||, | and $( … )), and every inline code span that starts with
// earshot, each with the file and line it is on.
func docCommandLines(t *testing.T) (lines []docLine) {
	t.Helper()
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md", "../../deploy/local/README.md", "../../deploy/grafana/README.md")
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		name := strings.TrimPrefix(filepath.ToSlash(doc), "../../")
		for _, m := range shBlock.FindAllStringSubmatchIndex(text, -1) {
			first := strings.Count(text[:m[2]], "\n") + 1
			body := strings.ReplaceAll(text[m[2]:m[3]], "\\\n", "  \n") // keep line numbers
			vars := map[string]string{}
			for i, l := range strings.Split(body, "\n") {
				if a := shellAssign.FindStringSubmatch(l); a != nil {
					vars[a[1]] = a[2] // S="--store DIR", used unquoted as $S below
				}
				for v, val := range vars {
					l = strings.ReplaceAll(l, "$"+v+" ", val+" ")
				}
				for _, words := range shellCommands(l) {
					lines = append(lines, docLine{where: fmt.Sprintf("%s:%d", name, first+i), words: words})
				}
			}
		}
		for _, m := range inlineCode.FindAllStringIndex(text, -1) {
			span := strings.ReplaceAll(strings.Trim(text[m[0]:m[1]], "`"), "\n", " ")
			if strings.ContainsAny(span, "|<") || strings.Contains(span, "…") {
				continue // a sketch (earshot alerts list|claim, earshot <stage>)
			}
			for _, words := range shellCommands(span) {
				lines = append(lines, docLine{where: fmt.Sprintf("%s:%d", name, strings.Count(text[:m[0]], "\n")+1), words: words, inline: true})
			}
		}
	}
	return lines
}

type docLine struct {
	where  string
	words  []string // after earshot
	inline bool     // a code span in prose: may name a command without its arguments
}

var shellAssign = regexp.MustCompile(`^([A-Za-z_]+)="([^"$]*)"`)

// shellCommands splits one line of shell into its earshot commands, each
// as the words after "earshot": quotes are removed, a comment ends the
// line, and ; && || | $( ) <( and & separate commands.
func shellCommands(line string) [][]string {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	flushWord := func() {
		if inWord {
			words = append(words, word.String())
		}
		word.Reset()
		inWord = false
	}
	flushCmd := func() {
		flushWord()
		for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
			words = words[1:] // VAR=value before the command
		}
		if len(words) > 0 && (words[0] == "earshot" || strings.HasSuffix(words[0], "/earshot")) {
			cmds = append(cmds, words[1:])
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				j = len(line) - i - 1
			}
			word.WriteString(line[i+1 : i+1+j])
			inWord = true
			i += j + 1
		case c == '#' && !inWord:
			flushCmd()
			return cmds
		case c == ' ' || c == '\t':
			flushWord()
		case c == ';' || c == '|' || c == '&' || c == ')' || c == '<' || c == '>':
			flushCmd()
			if c == '>' || c == '<' && (i+1 >= len(line) || line[i+1] != '(') {
				// a redirection: skip its target
				for i+1 < len(line) && (line[i+1] == ' ' || line[i+1] == '>' || line[i+1] == '&') {
					i++
				}
				for i+1 < len(line) && line[i+1] != ' ' && line[i+1] != ';' && line[i+1] != '|' {
					i++
				}
			}
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			flushCmd()
			i++
		case c == '(':
			flushCmd()
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flushCmd()
	return cmds
}

// TestDocCommandLines checks every earshot command line of README.md and
// docs/ against the real command tree: the command exists, every flag it
// gives is one of that command's flags and takes the value given, and the
// positional arguments are as many as the command takes. A reader who
// copies a line gets no "unknown flag".
func TestDocCommandLines(t *testing.T) {
	lines := docCommandLines(t)
	if len(lines) < 50 {
		t.Fatalf("%d earshot command lines found in the docs: is the extraction still right?", len(lines))
	}
	for _, l := range lines {
		args := longFlags(placeholders(l.words))
		root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
		c, rest, err := root.Find(args)
		if err != nil {
			t.Errorf("%s: earshot %s: %v", l.where, strings.Join(l.words, " "), err)
			continue
		}
		if c == root || strings.HasSuffix(c.Use, " COMMAND") && !(l.inline && len(rest) == 0) {
			if len(rest) == 0 || !strings.HasPrefix(rest[0], "-") || len(l.words) == 0 {
				t.Errorf("%s: earshot %s: no such command", l.where, strings.Join(l.words, " "))
				continue
			}
		}
		if err := c.ParseFlags(rest); err != nil && !(l.inline && !strings.Contains(err.Error(), "unknown")) {
			t.Errorf("%s: earshot %s: %v", l.where, strings.Join(l.words, " "), err)
			continue
		}
		if help, _ := c.Flags().GetBool("help"); help {
			continue
		}
		if l.inline {
			continue // prose names a command and a flag, not always its arguments
		}
		if err := c.ValidateArgs(c.Flags().Args()); err != nil && !hasEllipsis(l.words) {
			t.Errorf("%s: earshot %s: %v", l.where, strings.Join(l.words, " "), err)
		}
	}
}

// placeholders drops the optional parts a doc writes in brackets
// ([--timeout 30m]) so that the rest is checked as written.
func placeholders(words []string) []string {
	var out []string
	skip := false
	for _, w := range words {
		if strings.HasPrefix(w, "[") {
			skip = true
		}
		if !skip {
			out = append(out, w)
		}
		if strings.HasSuffix(w, "]") {
			skip = false
		}
	}
	return out
}

func hasEllipsis(words []string) bool {
	for _, w := range words {
		if strings.Contains(w, "…") || strings.Contains(w, "...") {
			return true
		}
	}
	return false
}

var (
	mdLink    = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	mdHeading = regexp.MustCompile(`(?m)^#+ (.*)$`)
	mdFence   = regexp.MustCompile("(?ms)^ *```.*?^ *```")
)

// headingAnchors are the anchors GitHub gives the headings of a markdown
// file: lower case, punctuation dropped, spaces as hyphens, a repeat
// numbered.
func headingAnchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, m := range mdHeading.FindAllStringSubmatch(mdFence.ReplaceAllString(text, ""), -1) {
		var b strings.Builder
		for _, r := range strings.ToLower(strings.TrimSpace(m[1])) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		a := b.String()
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// TestDocLinks: every relative link of README.md, docs/, BENCHMARKS.md and
// CHANGELOG.md names a file that exists, and a #fragment into a markdown
// file names one of its headings.
func TestDocLinks(t *testing.T) {
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md", "../../BENCHMARKS.md", "../../CHANGELOG.md", "../../deploy/local/README.md", "../../deploy/grafana/README.md")
	n := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(filepath.ToSlash(doc), "../../")
		for _, m := range mdLink.FindAllStringSubmatch(mdFence.ReplaceAllString(string(b), ""), -1) {
			u := m[1]
			if strings.Contains(u, "://") || strings.HasPrefix(u, "mailto:") {
				continue
			}
			n++
			path, frag, _ := strings.Cut(u, "#")
			target := doc
			if path != "" {
				target = filepath.Join(filepath.Dir(doc), path)
			}
			tb, err := os.ReadFile(target)
			if err != nil && !errors.Is(err, syscall.EISDIR) {
				t.Errorf("%s: link %s: %v", name, u, err)
				continue
			}
			if frag != "" && strings.HasSuffix(target, ".md") && !headingAnchors(string(tb))[frag] {
				t.Errorf("%s: link %s: no heading of %s has the anchor #%s", name, u, path, frag)
			}
		}
	}
	if n < 100 {
		t.Errorf("%d relative links found in the docs: is mdLink still right?", n)
	}
}

var (
	makeTarget = regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`)
	makeCall   = regexp.MustCompile("(?m)(?:^|[;&|(`]\\s*)make ([a-z][a-z0-9-]*)")
)

// TestDocMakeTargets: every `make X` of a shell block or code span of the
// docs is a target of the Makefile.
func TestDocMakeTargets(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range makeTarget.FindAllStringSubmatch(string(mk), -1) {
		targets[m[1]] = true
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md", "../../deploy/local/README.md", "../../deploy/grafana/README.md")
	n := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		var code []string
		for _, m := range shBlock.FindAllStringSubmatch(string(b), -1) {
			code = append(code, m[1])
		}
		code = append(code, regexp.MustCompile("`make [^`]+`").FindAllString(string(b), -1)...)
		for _, c := range code {
			for _, m := range makeCall.FindAllStringSubmatch(c, -1) {
				n++
				if !targets[m[1]] {
					t.Errorf("%s: make %s: no such target in the Makefile", strings.TrimPrefix(doc, "../../"), m[1])
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("%d make commands found in the docs: is the extraction still right?", n)
	}
}

var (
	docTestName = regexp.MustCompile(`\b(?:Test|Benchmark|Fuzz)[A-Z][A-Za-z0-9_]*`)
	testFunc    = regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz)[A-Za-z0-9_]+)\(`)
)

// TestDocTestNames: every test, benchmark or fuzz target the docs name
// (TestStormOf10000…, or a prefix a -run selects, TestCompose) is a
// function of some _test.go file of the repository, so a reader who runs
// it finds it.
func TestDocTestNames(t *testing.T) {
	var funcs []string
	err := filepath.WalkDir("../..", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".local" || d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range testFunc.FindAllSubmatch(b, -1) {
				funcs = append(funcs, string(m[1]))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob("../../docs/*.md")
	docs = append(docs, "../../README.md", "../../deploy/local/README.md", "../../deploy/grafana/README.md")
	n := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
	names:
		for _, name := range docTestName.FindAllString(string(b), -1) {
			if name == "TestX" || name == "BenchmarkX" || name == "FuzzX" {
				continue // the docs' placeholder (func FuzzX)
			}
			n++
			for _, f := range funcs {
				if strings.HasPrefix(f, name) {
					continue names
				}
			}
			t.Errorf("%s names %s: no such test, benchmark or fuzz target in the repository", strings.TrimPrefix(doc, "../../"), name)
		}
	}
	if n < 50 {
		t.Errorf("%d test names found in the docs: is docTestName still right?", n)
	}
}
