package lsp

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"

	"github.com/cnnc-dev/cnnc/dsl"
	"github.com/cnnc-dev/cnnc/op"
)

// Keywords are the reserved words of the language (dsl.Keywords) that a
// file writes on their own: "in" is written only in fields, in.c.
func Keywords() []string {
	var ks []string
	for _, k := range dsl.Keywords() {
		if k != "in" {
			ks = append(ks, k)
		}
	}
	return ks
}

// Options lists the option words and flag letters a usage names: "conv N
// KxK [sS] [pP | p same] [gG] [dD] [nobias]" gives s, p, same, g, d,
// nobias; "bn [eps X] [momentum X]" eps, momentum; "init default |
// gaussian STD | xavier | he" default, gaussian, xavier, he. Placeholders
// (N, KxK, X) are not options, nor are the names of optional positional
// arguments ("lrn [size] [alpha]"): a word alone in brackets is an option
// only when the layer accepts it as written (valid; nil accepts every
// word, for the train settings, which have no positional names).
func Options(usage string, valid func(word string) bool) []string {
	var out []string
	seen := map[string]bool{}
	add := func(o string) {
		if !seen[o] {
			seen[o] = true
			out = append(out, o)
		}
	}
	words := strings.Fields(strings.NewReplacer("[", " [ ", "]", " ] ", "|", " | ").Replace(usage))
	depth := 0
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "[":
			depth++
		case w == "]":
			depth--
		case flagForm.MatchString(w):
			add(w[:1])
		case !optionWord.MatchString(w):
		case depth == 0:
			add(w) // an alternative of a setting: none, plateau, xavier
		case i+1 < len(words) && placeholder.MatchString(words[i+1]):
			add(w) // a key: eps X
		case optionWord.MatchString(words[i-1]) || words[i-1] == "p":
			add(w) // a value after a flag: p same
		case words[i-1] == "[" && i+1 < len(words) && words[i+1] == "]" && (valid == nil || valid(w)):
			add(w) // a word alone: nobias, ceil
		}
	}
	return out
}

// LayerOptions are the options of a layer word, each checked by the
// front end: a word is an option when the layer's shortest form with it
// loads.
func LayerOptions(k *op.Kind) []string {
	words := strings.Fields(k.Usage)
	if len(words) == 0 {
		return nil // not a layer word: input, concat, add
	}
	var required []string
	for _, w := range words[1:] {
		if strings.HasPrefix(w, "[") {
			break
		}
		required = append(required, sample[w])
	}
	form := strings.Join(append([]string{k.Word}, required...), " ")
	return Options(k.Usage, func(w string) bool {
		_, errs := dsl.Load("option.cnn", []byte("input 8x8x8\n"+form+" "+w+"\n"))
		return len(errs) == 0
	})
}

// sample values of the placeholders of a layer's usage.
var sample = map[string]string{"N": "8", "KxK": "3x3", "K": "2", "P": "0.5", "G": "2"}

var (
	flagForm    = regexp.MustCompile(`^[a-z][A-Z]+$`)    // sS, pP
	optionWord  = regexp.MustCompile(`^[a-z][a-z0-9]+$`) // nobias, same, lr, beta1
	placeholder = regexp.MustCompile(`^[A-Z]+$`)         // X, N, STD
)

var (
	blockDef   = regexp.MustCompile(`(?m)^\s*block\s+([A-Za-z_][A-Za-z0-9_]*)\(`)
	trainOpen  = regexp.MustCompile(`^\s*train\s*\{`)
	closeBrace = regexp.MustCompile(`^\s*\}`)
	elemStart  = regexp.MustCompile(`(->|\||\{|\()\s*`)
	labelStart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*\s*:\s*`)
)

func (s *Server) completion(params json.RawMessage) (any, *rpcError) {
	p, d, err := request[positionParams](s, params)
	if err != nil {
		return nil, err
	}
	return complete(d.a.text, p.Position), nil
}

// complete proposes what may be written at p. It reads the text, not the
// AST, so that it works in the half-written line of a file that does not
// parse: in a train section the setting keys, or a setting's options after
// its key; after a layer word its flags and options; elsewhere layer words,
// keywords and the blocks the file defines.
func complete(t *text, p Position) CompletionList {
	off := t.offset(p)
	line := t.position(off).Line
	before := t.src[t.lines[line]:off]
	if i := strings.IndexByte(before, '#'); i >= 0 {
		return CompletionList{Items: []CompletionItem{}} // in a comment
	}
	var items []CompletionItem
	if inTrain(t, line) {
		fields := strings.Fields(before)
		usage := dsl.SettingUsage()
		if len(fields) == 0 || len(fields) == 1 && !strings.HasSuffix(before, " ") {
			for _, k := range sortedKeys(usage) {
				items = append(items, CompletionItem{Label: k, Kind: completionProperty, Detail: usage[k]})
			}
		} else if u, ok := usage[fields[0]]; ok {
			items = optionItems(Options(u, nil), u)
		}
		return CompletionList{Items: nonNil(items)}
	}
	// The element the cursor is in: after the last ->, |, { or (.
	elem := before
	if ms := elemStart.FindAllStringIndex(before, -1); len(ms) > 0 {
		elem = before[ms[len(ms)-1][1]:]
	}
	elem = labelStart.ReplaceAllString(strings.TrimLeft(elem, " \t"), "")
	if word, _, ok := strings.Cut(elem, " "); ok {
		if k := op.Lookup(word); k != nil && k.Usage != "" {
			return CompletionList{Items: nonNil(optionItems(LayerOptions(k), k.Usage))}
		}
	}
	for _, w := range op.Words() {
		k := op.Lookup(w)
		if k.Usage == "" {
			continue
		}
		items = append(items, CompletionItem{Label: w, Kind: completionKeyword, Detail: k.Usage})
	}
	for _, w := range Keywords() {
		items = append(items, CompletionItem{Label: w, Kind: completionKeyword, Detail: "keyword"})
	}
	for _, m := range blockDef.FindAllStringSubmatch(t.src, -1) {
		items = append(items, CompletionItem{Label: m[1], Kind: completionFunction, Detail: "block", InsertText: m[1] + "("})
	}
	return CompletionList{Items: items}
}

// inTrain reports whether line is inside a train { } section: a line
// `train {` above it, and no line closing it in between.
func inTrain(t *text, line int) bool {
	for l := line - 1; l >= 0; l-- {
		s := t.src[t.lines[l]:t.lineEnd(l)]
		if closeBrace.MatchString(s) {
			return false
		}
		if trainOpen.MatchString(s) {
			return true
		}
	}
	return false
}

func optionItems(options []string, usage string) []CompletionItem {
	var items []CompletionItem
	for _, o := range options {
		items = append(items, CompletionItem{Label: o, Kind: completionVariable, Detail: usage})
	}
	return items
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func nonNil(items []CompletionItem) []CompletionItem {
	if items == nil {
		return []CompletionItem{}
	}
	return items
}
