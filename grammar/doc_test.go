package grammar

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// Reference is the part of docs/language.md printed from the parser: the
// token rules and the grammar in EBNF.
func Reference() string {
	var b strings.Builder
	b.WriteString("```\n")
	for _, r := range Rules {
		fmt.Fprintf(&b, "%-8s %s\n", r.Name, r.Pattern)
	}
	b.WriteString("```\n\n```ebnf\n")
	b.WriteString(EBNF())
	b.WriteString("\n```\n")
	return b.String()
}

const (
	beginMark = "<!-- grammar: printed by the parser; go test ./grammar -update-doc rewrites it -->\n"
	endMark   = "<!-- end grammar -->\n"
)

// TestLanguageDoc fails when docs/language.md and the grammar drift apart.
func TestLanguageDoc(t *testing.T) {
	const path = "../docs/language.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, beginMark), strings.Index(s, endMark)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the grammar markers", path)
	}
	got := s[i+len(beginMark) : j]
	if want := Reference(); got != want {
		if *updateDoc {
			s = s[:i+len(beginMark)] + want + s[j:]
			if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s and the grammar differ (go test ./grammar -update-doc rewrites the document):\n--- document\n%s\n--- grammar\n%s", path, got, want)
	}
}
