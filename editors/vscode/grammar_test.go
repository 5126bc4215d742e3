// Package vscode holds the VS Code extension of the .cnn language; its Go
// test checks the TextMate grammar against cnnc's own lexer and op table.
package vscode

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/grammar"
	"github.com/cnnc-dev/cnnc/lsp"
	"github.com/cnnc-dev/cnnc/op"
)

// tmGrammar is the part of a TextMate grammar this check understands:
// match rules with a name and captures, and includes of the repository.
// A begin/end rule is refused, so that the grammar stays one the check
// reads completely.
type tmGrammar struct {
	ScopeName  string            `json:"scopeName"`
	Patterns   []tmRule          `json:"patterns"`
	Repository map[string]tmRule `json:"repository"`
}

type tmRule struct {
	Include  string                           `json:"include"`
	Name     string                           `json:"name"`
	Match    string                           `json:"match"`
	Begin    string                           `json:"begin"`
	Captures map[string]struct{ Name string } `json:"captures"`
	Patterns []tmRule                         `json:"patterns"`
}

// rule is a match rule compiled with Go's regexp (RE2): the grammar must
// not need Oniguruma's lookaround or backreferences.
type rule struct {
	re       *regexp.Regexp
	name     string
	captures map[int]string
	anchored bool // starts with ^: matches only at the start of a line
	boundary bool // starts with \b
}

func loadGrammar(t *testing.T, data []byte) []rule {
	t.Helper()
	var g tmGrammar
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatalf("the grammar is not JSON: %v", err)
	}
	if g.ScopeName != "source.cnn" {
		t.Fatalf("scopeName %q", g.ScopeName)
	}
	var rules []rule
	var flatten func(rs []tmRule, seen map[string]bool)
	flatten = func(rs []tmRule, seen map[string]bool) {
		for _, r := range rs {
			if r.Include != "" {
				key := strings.TrimPrefix(r.Include, "#")
				inc, ok := g.Repository[key]
				if !ok || seen[key] {
					t.Fatalf("include %q: not in the repository, or recursive", r.Include)
				}
				seen[key] = true
				flatten([]tmRule{inc}, seen)
				delete(seen, key)
				continue
			}
			if r.Begin != "" {
				t.Fatalf("rule %q: begin/end rules are not checked; write match rules", r.Begin)
			}
			if r.Match == "" {
				flatten(r.Patterns, seen)
				continue
			}
			re, err := regexp.Compile(r.Match)
			if err != nil {
				t.Fatalf("rule %q does not compile in Go's regexp (keep it RE2): %v", r.Match, err)
			}
			c := map[int]string{}
			for k, v := range r.Captures {
				var i int
				if _, err := fmt.Sscan(k, &i); err != nil || i > re.NumSubexp() {
					t.Fatalf("rule %q: capture %q", r.Match, k)
				}
				c[i] = v.Name
			}
			rules = append(rules, rule{re: re, name: r.Name, captures: c, anchored: strings.HasPrefix(r.Match, "^"), boundary: strings.HasPrefix(r.Match, `\b`)})
		}
	}
	flatten(g.Patterns, map[string]bool{})
	return rules
}

// scopes tokenises one line as a TextMate engine does with match rules:
// from the current position, the rule whose match starts first wins (the
// first listed on a tie), its scopes cover its match, and the search goes
// on after it. It returns the scope of every byte ("" where no rule
// matched).
func scopes(rules []rule, line string) []string {
	out := make([]string, len(line))
	for p := 0; p < len(line); {
		best, bestLoc := -1, []int(nil)
		for i, r := range rules {
			if r.anchored && p > 0 {
				continue
			}
			loc := r.find(line, p)
			if loc != nil && (bestLoc == nil || loc[0] < bestLoc[0]) {
				best, bestLoc = i, loc
			}
		}
		if best < 0 {
			break
		}
		r := rules[best]
		if r.name != "" {
			fill(out, bestLoc[0], bestLoc[1], r.name)
		}
		for g, name := range r.captures {
			if bestLoc[2*g] >= 0 {
				fill(out, bestLoc[2*g], bestLoc[2*g+1], name)
			}
		}
		if bestLoc[1] == p {
			p++ // an empty match: step over a byte
			continue
		}
		p = bestLoc[1]
	}
	return out
}

// find is the first match of r in line at or after p, its indexes in line.
// Go's regexp sees line[p:] only, so a \b at its start would hold inside a
// word: such a match is refused and the search goes on one byte later.
func (r rule) find(line string, p int) []int {
	for q := p; q <= len(line); q++ {
		loc := r.re.FindStringSubmatchIndex(line[q:])
		if loc == nil {
			return nil
		}
		if loc[0] == 0 && q > 0 && q < len(line) && r.boundary && isWord(line[q-1]) == isWord(line[q]) {
			continue
		}
		for i := range loc {
			if loc[i] >= 0 {
				loc[i] += q
			}
		}
		return loc
	}
	return nil
}

func isWord(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func fill(s []string, from, to int, name string) {
	for i := from; i < to; i++ {
		s[i] = name
	}
}

// expectation is the scope prefix a span of a line must have.
type expectation struct {
	from, to int // bytes of the line
	scope    string
	text     string
}

// expected classifies every token of src with cnnc's own lexer, op table
// and settings: the scope a .cnn reader expects of it, per line.
func expected(t *testing.T, src string) map[int][]expectation {
	t.Helper()
	lex, err := grammar.Lexer.Lex("x.cnn", strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	toks, err := lexer.ConsumeAll(lex)
	if err != nil {
		t.Fatalf("cnnc's lexer: %v", err)
	}
	names := map[lexer.TokenType]string{}
	for n, ty := range grammar.Lexer.Symbols() {
		names[ty] = n
	}
	keywords := map[string]bool{}
	for _, k := range lsp.Keywords() {
		keywords[k] = true
	}
	options, flags := optionWords()
	settings := dsl.SettingUsage()
	lineStart := func(off int) int { return strings.LastIndexByte(src[:off], '\n') + 1 }
	out := map[int][]expectation{}
	add := func(off, n int, scope string) {
		ls := lineStart(off)
		line := strings.Count(src[:off], "\n")
		out[line] = append(out[line], expectation{off - ls, off - ls + n, scope, src[off : off+n]})
	}
	var sig []lexer.Token // significant tokens, to look at neighbours
	for _, tok := range toks {
		switch names[tok.Type] {
		case "EOF", "Space":
		case "NL", "Comment":
			for off := 0; off < len(tok.Value); {
				i := strings.IndexByte(tok.Value[off:], '#')
				if i < 0 {
					break
				}
				start := off + i
				end := start + strings.IndexByte(tok.Value[start:]+"\n", '\n')
				add(tok.Pos.Offset+start, end-start, "comment")
				off = end
			}
			sig = append(sig, tok)
		default:
			sig = append(sig, tok)
		}
	}
	inTrain := false
	for i, tok := range sig {
		kind, v := names[tok.Type], tok.Value
		prev, next := "", ""
		if i > 0 {
			prev = sig[i-1].Value
		}
		if i+1 < len(sig) {
			next = sig[i+1].Value
		}
		atLineStart := i == 0 || names[sig[i-1].Type] == "NL"
		scope := ""
		switch kind {
		case "NL", "Comment":
			continue
		case "Size", "Number":
			scope = "constant.numeric"
		case "Repeat":
			scope = "keyword.operator.repeat"
		case "Field":
			scope = "variable"
		case "Arrow":
			scope = "keyword.operator.arrow"
		case "Cmp":
			scope = "keyword.operator.comparison"
		case "Punct":
			scope = "punctuation"
			if strings.Contains("+-*/", v) {
				scope = "keyword.operator.arithmetic"
			}
			if v == "}" && inTrain {
				inTrain = false
			}
		case "Call":
			name := strings.TrimSuffix(v, "(")
			switch {
			case name == "x":
				scope = "keyword.operator.repeat"
			case flags[name]:
				scope = "storage.modifier.flag"
			default:
				scope = "entity.name.function"
			}
			add(tok.Pos.Offset, len(name), scope)
			add(tok.Pos.Offset+len(name), 1, "punctuation")
			continue
		case "Ident":
			switch {
			case keywords[v]:
				scope = "keyword.control"
				if v == "train" {
					inTrain = true
				}
			case op.Lookup(v) != nil:
				scope = "keyword.other.layer"
			case prev == "network":
				scope = "entity.name.type"
			case next == ":":
				scope = "entity.name.label"
			case inTrain && atLineStart && settings[v] != "":
				scope = "keyword.other.setting"
			case options[v]:
				scope = "support.constant.option"
			case len(v) > 1 && flags[v[:1]] && strings.Trim(v[1:], "0123456789") == "":
				scope = "storage.modifier.flag"
			default:
				scope = "variable"
			}
		default:
			t.Fatalf("token kind %s (%q): the check does not know it", kind, v)
		}
		add(tok.Pos.Offset, len(v), scope)
	}
	return out
}

// optionWords are the option words and the flag letters of the op table's
// layers and of the train settings.
func optionWords() (options, flags map[string]bool) {
	options, flags = map[string]bool{}, map[string]bool{}
	put := func(os []string) {
		for _, o := range os {
			if len(o) == 1 {
				flags[o] = true
			} else {
				options[o] = true
			}
		}
	}
	for _, w := range op.Words() {
		put(lsp.LayerOptions(op.Lookup(w)))
	}
	for _, u := range dsl.SettingUsage() {
		put(lsp.Options(u, nil))
	}
	return options, flags
}

// check compares the grammar's scopes with the expectations of every line
// of src and returns the mismatches.
func check(rules []rule, src string, exp map[int][]expectation) []string {
	var bad []string
	for i, line := range strings.Split(src, "\n") {
		sc := scopes(rules, line)
		for _, e := range exp[i] {
			for b := e.from; b < e.to; b++ {
				if !strings.HasPrefix(sc[b], e.scope) {
					got := sc[b]
					if got == "" {
						got = "no scope"
					}
					bad = append(bad, fmt.Sprintf("%d:%d: %q is %s, want %s", i+1, e.from+1, e.text, got, e.scope))
					break
				}
			}
		}
	}
	return bad
}

func grammarRules(t *testing.T) []rule {
	data, err := os.ReadFile("syntaxes/cnn.tmLanguage.json")
	if err != nil {
		t.Fatal(err)
	}
	return loadGrammar(t, data)
}

// Every token of every zoo network, and of the networks the tests and
// examples use, gets the scope cnnc's lexer and op table say it has: layer
// words are keywords, nothing is left unscoped.
func TestGrammarZoo(t *testing.T) {
	rules := grammarRules(t)
	var paths []string
	for _, pattern := range []string{"../../networks/*.cnn", "../../testdata/nets/*.cnn", "../../examples/mnist/*.cnn"} {
		ps, _ := filepath.Glob(pattern)
		paths = append(paths, ps...)
	}
	if len(paths) < 19 {
		t.Fatalf("%d networks found", len(paths))
	}
	words := map[string]bool{}
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		exp := expected(t, string(src))
		for _, es := range exp {
			for _, e := range es {
				if e.scope == "keyword.other.layer" {
					words[e.text] = true
				}
			}
		}
		for _, b := range check(rules, string(src), exp) {
			t.Errorf("%s:%s", p, b)
		}
	}
	if len(words) < 15 {
		t.Errorf("only %d layer words in the zoo: %v", len(words), words)
	}
}

// Every layer word of the op table is a keyword of the grammar, every
// option an option, every flag a flag, whether the zoo uses it or not.
func TestGrammarOpTable(t *testing.T) {
	rules := grammarRules(t)
	options, flags := optionWords()
	var b strings.Builder
	for _, w := range op.Words() {
		fmt.Fprintf(&b, "-> %s\n", w)
	}
	for o := range options {
		fmt.Fprintf(&b, "-> relu %s\n", o)
	}
	for f := range flags {
		fmt.Fprintf(&b, "-> relu %s2 %s(n)\n", f, f)
	}
	b.WriteString("train {\n")
	for k := range dsl.SettingUsage() {
		fmt.Fprintf(&b, "  %s 1\n", k)
	}
	b.WriteString("}\n")
	src := b.String()
	for _, bad := range check(rules, src, expected(t, src)) {
		t.Error(bad)
	}
}

// The check fails on a grammar that misses a layer word, and on one that
// leaves a token unscoped.
func TestGrammarCheckCanFail(t *testing.T) {
	data, err := os.ReadFile("syntaxes/cnn.tmLanguage.json")
	if err != nil {
		t.Fatal(err)
	}
	src := "input 28x28x1\nconv 8 3x3 p1 -> relu -> dwconv 3x3 -> gap -> fc 10 # done\n"
	for what, broken := range map[string]string{
		"no dwconv":      strings.Replace(string(data), "conv|dwconv|", "conv|", 1),
		"no numbers":     strings.Replace(string(data), `"include": "#number"`, `"include": "#comment"`, 1),
		"no punctuation": strings.Replace(string(data), `"include": "#arrow"`, `"include": "#comment"`, 1),
	} {
		if broken == string(data) {
			t.Fatalf("%s: the grammar did not change", what)
		}
		if bad := check(loadGrammar(t, []byte(broken)), src, expected(t, src)); len(bad) == 0 {
			t.Errorf("%s: the check passes", what)
		}
	}
}

// The extension contributes the language, the grammar and the
// configuration, and its client runs `cnnc lsp`.
func TestPackage(t *testing.T) {
	data, err := os.ReadFile("package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Main        string `json:"main"`
		Contributes struct {
			Languages []struct {
				ID            string   `json:"id"`
				Extensions    []string `json:"extensions"`
				Configuration string   `json:"configuration"`
			} `json:"languages"`
			Grammars []struct {
				Language, ScopeName, Path string
			} `json:"grammars"`
		} `json:"contributes"`
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		t.Fatal(err)
	}
	c := pkg.Contributes
	if len(c.Languages) != 1 || c.Languages[0].ID != "cnn" || len(c.Languages[0].Extensions) != 1 || c.Languages[0].Extensions[0] != ".cnn" {
		t.Fatalf("languages: %+v", c.Languages)
	}
	if len(c.Grammars) != 1 || c.Grammars[0].Language != "cnn" || c.Grammars[0].ScopeName != "source.cnn" {
		t.Fatalf("grammars: %+v", c.Grammars)
	}
	for _, f := range []string{c.Languages[0].Configuration, c.Grammars[0].Path, pkg.Main} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(b) {
			t.Errorf("%s is not JSON", f)
		}
	}
	js, _ := os.ReadFile(pkg.Main)
	if !strings.Contains(string(js), `args: ["lsp"]`) || !strings.Contains(string(js), "vscode-languageclient/node") || pkg.Dependencies["vscode-languageclient"] == "" {
		t.Errorf("%s does not run `cnnc lsp` through vscode-languageclient", pkg.Main)
	}
}

// The client's JavaScript parses (node --check): the tests have Node.js
// for ONNX Runtime (internal/ort), and CI installs it.
func TestExtensionParses(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node is not installed (Debian's nodejs); CI needs it")
		}
		t.Skip("node is not installed (Debian's nodejs): extension.js is not checked")
	}
	if out, err := exec.Command(node, "--check", "extension.js").CombinedOutput(); err != nil {
		t.Fatalf("node --check extension.js: %v\n%s", err, out)
	}
}
