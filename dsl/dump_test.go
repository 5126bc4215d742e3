package dsl

// The golden tests of this file are data: dsl/testdata/*.txt, in the style of
// cockroachdb/datadriven (with a reader of its own, below). A file holds
// cases; a case is
//
//	# any number of comment lines (starting with #) and blank lines
//	resolve [name=FILE] [notrain]
//	<the .cnn source: any lines, blank lines and # comments included>
//	----
//	<the expected output>
//	<a blank line, or the end of the file, ends the case>
//
// The directive `resolve` loads the source with Load (as file FILE, net.cnn
// by default) and prints the Dump of the network, or, when it has errors,
// the errors as ErrorList.Render shows them. `notrain` leaves the train
// section out of the dump (the layer files would otherwise repeat the
// default recipe in every case).
//
// The source ends at the first line that is exactly "----". An expected
// output that contains a blank line is written between two "----" lines
// and ends at the next pair of "----" lines (datadriven's convention):
//
//	----
//	----
//	<output, blank lines included>
//	----
//	----
//
// `go test ./dsl -update` rewrites the expected outputs in place; the
// comments, directives and sources are kept as they are.

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*.txt")

const sep = "----"

// ddCase is one case of a golden file.
type ddCase struct {
	line   int      // line of the directive, 1-based
	cmd    string   // the directive's command
	args   []string // its arguments
	pre    string   // the raw text from the end of the previous case to the "----" line, included
	input  string   // the .cnn source
	output string   // the expected output
}

// ddFile is a parsed golden file: its cases and what follows the last one.
type ddFile struct {
	cases []*ddCase
	tail  string
}

// parseDD reads a golden file.
func parseDD(path string, data []byte) (*ddFile, error) {
	text := string(data)
	if text != "" && !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	trim := func(s string) string { return strings.TrimSuffix(s, "\n") }
	f := &ddFile{}
	i := 0
	for i < len(lines) {
		start := i
		// Comments and blank lines, then a directive.
		for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(lines[i], "#")) {
			i++
		}
		if i == len(lines) {
			f.tail = strings.Join(lines[start:], "")
			break
		}
		c := &ddCase{line: i + 1}
		fields := strings.Fields(lines[i])
		c.cmd, c.args = fields[0], fields[1:]
		i++
		// The source, up to "----".
		var in []string
		for i < len(lines) && trim(lines[i]) != sep {
			in = append(in, lines[i])
			i++
		}
		if i == len(lines) {
			return nil, fmt.Errorf("%s:%d: the case has no %s line", path, c.line, sep)
		}
		i++
		c.input = strings.Join(in, "")
		c.pre = strings.Join(lines[start:i], "")
		// The expected output.
		var out []string
		if i < len(lines) && trim(lines[i]) == sep {
			// Double "----": ends at the next pair.
			i++
			for {
				if i+1 >= len(lines) {
					return nil, fmt.Errorf("%s:%d: the output has no closing %s %s lines", path, c.line, sep, sep)
				}
				if trim(lines[i]) == sep && trim(lines[i+1]) == sep {
					i += 2
					break
				}
				out = append(out, lines[i])
				i++
			}
			if i < len(lines) && trim(lines[i]) == "" {
				i++
			}
		} else {
			for i < len(lines) && trim(lines[i]) != "" {
				out = append(out, lines[i])
				i++
			}
			if i < len(lines) {
				i++ // the blank line that ends the case
			}
		}
		c.output = strings.Join(out, "")
		f.cases = append(f.cases, c)
	}
	return f, nil
}

// format writes the file back with the cases' (new) outputs.
func (f *ddFile) format() []byte {
	var b bytes.Buffer
	for i, c := range f.cases {
		b.WriteString(c.pre)
		out := c.output
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if strings.HasPrefix(out, "\n") || strings.Contains(out, "\n\n") {
			b.WriteString(sep + "\n" + out + sep + "\n" + sep + "\n")
		} else {
			b.WriteString(out)
		}
		if i < len(f.cases)-1 || f.tail != "" {
			b.WriteString("\n")
		}
	}
	b.WriteString(f.tail)
	return b.Bytes()
}

// run executes one case and returns its output.
func (c *ddCase) run(t *testing.T) string {
	t.Helper()
	name, train := "net.cnn", true
	for _, a := range c.args {
		switch {
		case strings.HasPrefix(a, "name="):
			name = strings.TrimPrefix(a, "name=")
		case a == "notrain":
			train = false
		default:
			t.Fatalf("unknown argument %q", a)
		}
	}
	if c.cmd != "resolve" {
		t.Fatalf("unknown directive %q", c.cmd)
	}
	src := []byte(c.input)
	net, errs := Load(name, src)
	if len(errs) > 0 {
		return errs.Render(src)
	}
	var b strings.Builder
	if err := Dump(&b, net); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !train {
		out = out[:strings.Index(out, "\ntrain set=")+1]
	}
	return out
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files in testdata")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parseDD(path, data)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.format(), data) && !*update {
				t.Errorf("%s is not in canonical form (one blank line between cases; go test -update rewrites it)", path)
			}
			for _, c := range f.cases {
				t.Run(fmt.Sprintf("line%d", c.line), func(t *testing.T) {
					got := c.run(t)
					if *update {
						c.output = got
						return
					}
					if got != c.output {
						t.Errorf("%s:%d: output differs (go test ./dsl -update rewrites it)\n--- source\n%s--- got\n%s--- want\n%s", path, c.line, c.input, got, c.output)
					}
				})
			}
			if *update {
				if out := f.format(); !bytes.Equal(out, data) {
					if err := os.WriteFile(path, out, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// TestDDReader checks the reader and writer of the golden files: blank lines
// in sources, the double ---- form, comments between and after the cases.
func TestDDReader(t *testing.T) {
	in := "# head\n\nresolve\ninput 1x1x1\n\n# c\nrelu\n----\nout 1\nout 2\n\n# between\nresolve name=x.cnn notrain\nbn\n----\n----\npara 1\n\npara 2\n----\n----\n\nresolve\nfc 1\n----\n\n# tail\n"
	f, err := parseDD("x.txt", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.cases) != 3 {
		t.Fatalf("%d cases, want 3", len(f.cases))
	}
	want := []struct {
		line          int
		input, output string
		args          int
	}{
		{3, "input 1x1x1\n\n# c\nrelu\n", "out 1\nout 2\n", 0},
		{13, "bn\n", "para 1\n\npara 2\n", 2},
		{23, "fc 1\n", "", 0},
	}
	for i, w := range want {
		c := f.cases[i]
		if c.line != w.line || c.input != w.input || c.output != w.output || len(c.args) != w.args || c.cmd != "resolve" {
			t.Errorf("case %d: line %d cmd %q args %q input %q output %q; want line %d input %q output %q", i, c.line, c.cmd, c.args, c.input, c.output, w.line, w.input, w.output)
		}
	}
	if f.tail != "# tail\n" {
		t.Errorf("tail %q", f.tail)
	}
	if got := string(f.format()); got != in {
		t.Errorf("format does not give the file back:\n%s", got)
	}
	// A new output that gains a blank line switches to the double form.
	f.cases[0].output = "a\n\nb\n"
	g, err := parseDD("x.txt", f.format())
	if err != nil || g.cases[0].output != "a\n\nb\n" || g.cases[1].output != "para 1\n\npara 2\n" {
		t.Errorf("round trip of a multi-paragraph output: %v %q", err, g.cases[0].output)
	}
	for _, bad := range []string{"resolve\nrelu\n", "resolve\nrelu\n----\n----\nx\n----\n"} {
		if _, err := parseDD("x.txt", []byte(bad)); err == nil {
			t.Errorf("parseDD(%q) succeeded", bad)
		}
	}
}

var address = regexp.MustCompile(`0x[0-9a-f]{6,}`)

// TestDumpCorpus dumps every network of networks/ and testdata/nets/: the
// dump is deterministic (two loads dump alike), has one line per node in
// order and names every node, the output and every aux head.
func TestDumpCorpus(t *testing.T) {
	var files []string
	for _, g := range []string{"../networks/*.cnn", "../testdata/nets/*.cnn"} {
		m, err := filepath.Glob(g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("only %d networks found", len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			dump := func() (*Network, string) {
				net, errs := Load(path, src)
				if len(errs) > 0 {
					t.Fatalf("%s", errs.Render(src))
				}
				var b strings.Builder
				if err := Dump(&b, net); err != nil {
					t.Fatal(err)
				}
				return net, b.String()
			}
			net, a := dump()
			_, b := dump()
			if a != b {
				t.Fatalf("two loads dump differently:\n%s\n---\n%s", a, b)
			}
			var again strings.Builder
			Dump(&again, net)
			if again.String() != a {
				t.Fatal("two dumps of one network differ")
			}
			if address.MatchString(a) {
				t.Error("the dump shows an address")
			}
			lines := strings.Split(strings.TrimSuffix(a, "\n"), "\n")
			if want := 1 + len(net.Nodes) + 1 + len(net.Aux) + 6; len(lines) != want {
				t.Fatalf("%d lines, want %d", len(lines), want)
			}
			if lines[0] != fmt.Sprintf("network %s input %dx%dx%d", net.Name, net.Input.H, net.Input.W, net.Input.C) {
				t.Errorf("header %q", lines[0])
			}
			seen := map[string]bool{}
			for i, n := range net.Nodes {
				if n.ID != i {
					t.Errorf("node %s has ID %d at index %d", n.Name, n.ID, i)
				}
				if seen[n.Name] {
					t.Errorf("name %s twice", n.Name)
				}
				seen[n.Name] = true
				prefix := fmt.Sprintf("%d %s %s", i, n.Name, n.Op)
				l := lines[1+i]
				if !strings.HasPrefix(l, prefix+" ") || !strings.Contains(l, fmt.Sprintf("@%d:%d", n.Pos.Line, n.Pos.Column)) {
					t.Errorf("line of node %d: %q, want it to start with %q", i, l, prefix)
				}
				for _, in := range n.Inputs {
					if !strings.Contains(l, in.Name) {
						t.Errorf("line of node %d does not name its input %s: %q", i, in.Name, l)
					}
				}
			}
			if l := lines[1+len(net.Nodes)]; l != "output "+net.Output.Name {
				t.Errorf("output line %q", l)
			}
			for i, h := range net.Aux {
				if l := lines[2+len(net.Nodes)+i]; !strings.HasPrefix(l, "aux "+h.Name+" ") || !strings.Contains(l, "from="+h.From.Name+" output="+h.Output.Name) {
					t.Errorf("aux line %q", l)
				}
			}
		})
	}
}
