package playground

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cnnc-dev/cnnc/compiler"
	"github.com/cnnc-dev/cnnc/internal/debpkg"
	"github.com/cnnc-dev/cnnc/networks"
)

var shots = flag.String("shots", "", "save screenshots of the browser test as PNG in this directory")

// browsers are the names a Chromium goes by on PATH.
var browsers = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// browser returns a Chromium to drive, installing Debian's chromium under CI
// (as root, with apt-get) when there is none; elsewhere a missing browser
// skips the test.
func browser(t *testing.T) string {
	return debpkg.Need(t, "chromium", "the playground's browser test", func() string {
		for _, b := range browsers {
			if p, err := exec.LookPath(b); err == nil {
				return p
			}
		}
		return ""
	})
}

// The network the test types, broken (5 groups do not divide 32 and 64
// channels) and fixed.
const (
	broken = "network Tiny\ninput 32x32x3\n\nconv 32 3x3 p1 -> relu -> maxpool 2\n-> conv 64 3x3 p1 g5 -> relu\n-> gap -> fc 10 -> softmax\n"
	fixed  = "network Tiny\ninput 32x32x3\n\nconv 32 3x3 p1 -> relu -> maxpool 2\n-> conv 64 3x3 p1 g4 -> relu\n-> gap -> fc 10 -> softmax\n"
)

// TestBrowser loads the playground in headless Chromium, types a broken
// network and reads the errors `cnnc check` prints and the underline, fixes
// it and reads the table and the picture, picks a zoo example and collapses
// its blocks, reloads, and scrolls a long file.
func TestBrowser(t *testing.T) {
	exe := browser(t)
	dir := built(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.WindowSize(1500, 950))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium's sandbox refuses root
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ctx, cancel = chromedp.NewExecAllocator(ctx, opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx, chromedp.WithErrorf(t.Logf))
	defer cancel()

	do(t, ctx, "load the page", chromedp.Navigate(srv.URL),
		chromedp.Poll[Void](`document.body.dataset.state !== "loading"`, chromedp.WithPollingTimeout(60*time.Second)))
	state := get(t, ctx, "read the state", chromedp.Evaluate[string](`document.body.dataset.state`))
	if state != "ready" {
		t.Fatalf("the page is %q: %s", state, get(t, ctx, "read the status", chromedp.Text("#status")))
	}

	// A broken network, typed key by key over the first example (LeNet-5,
	// whose file name the errors keep): the errors of `cnnc check`.
	_, errs := compiler.CompileSource("lenet5.cnn", []byte(broken))
	want := errs.Render([]byte(broken))
	if !strings.Contains(want, "do not divide into 5 groups") {
		t.Fatalf("the broken network's errors are not the test's:\n%s", want)
	}
	typeText(t, ctx, broken)
	wait(t, ctx, "the errors", settled+`document.getElementById("code").value === `+jsString(broken)+` && !document.getElementById("errors").hidden`)
	if shown := get(t, ctx, "read the errors", chromedp.TextContent("#errors")); shown != want {
		t.Errorf("the page shows\n%s\ncnnc check prints\n%s", shown, want)
	}
	if marked := get(t, ctx, "read the marks", chromedp.TextContent("#marks mark")); marked != "conv 64 3x3 p1 g5" {
		t.Errorf("the editor underlines %q, want the layer", marked)
	}
	if st := get(t, ctx, "read the status", chromedp.TextContent("#status")); st != "1 error" {
		t.Errorf("the status says %q, want 1 error", st)
	}
	// The caret in the span: the status says its error.
	at := strconv.Itoa(strings.Index(broken, "g5")) // ASCII: bytes are UTF-16 units
	do(t, ctx, "move the caret", chromedp.Evaluate[Void](`void (() => { const c = document.getElementById("code"); c.focus(); c.setSelectionRange(`+at+`, `+at+`); })()`))
	wait(t, ctx, "the error in the status", `document.getElementById("status").textContent === `+jsString(errs[0].Msg))
	screenshot(t, ctx, "playground-error.png")

	// Fixed: the table, a row per layer and the total, and the picture.
	typeText(t, ctx, fixed)
	m, _ := compiler.CompileSource("lenet5.cnn", []byte(fixed))
	wait(t, ctx, "the table", settled+`document.getElementById("code").value === `+jsString(fixed)+` && document.getElementById("errors").hidden && document.querySelectorAll("#table tbody tr").length === `+strconv.Itoa(len(m.Layers)+1))
	rows := get(t, ctx, "read the table", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#table tbody tr")].map(r => [...r.cells].map(c => c.textContent).join("|"))`))
	if want := "4|conv2|conv 64 3x3 p1 g4|16x16x64|4,672|1,179,648|16,384"; rows[4] != want {
		t.Errorf("row 4 is %q, want %q", rows[4], want)
	}
	if total := rows[len(rows)-1]; total != "|total||1x1x10|"+compiler.Comma(m.Params)+"|"+compiler.Comma(m.MACs)+"|"+compiler.Comma(m.Activations) {
		t.Errorf("the total row is %q", total)
	}
	if !get(t, ctx, "read the stale note", chromedp.Evaluate[bool](`document.getElementById("stale").hidden`)) {
		t.Error("the table is still marked as the last version that checked")
	}
	checkPicture(t, ctx)
	screenshot(t, ctx, "playground-table.png")

	// A zoo example from the drop-down.
	src, err := networks.Files.ReadFile("resnet18.cnn")
	if err != nil {
		t.Fatal(err)
	}
	m, _ = compiler.CompileSource("resnet18.cnn", src)
	do(t, ctx, "pick resnet18", chromedp.SetValue("#examples", "resnet18.cnn")) // and its change event
	wait(t, ctx, "resnet18's table", `document.querySelectorAll("#table tbody tr").length === `+strconv.Itoa(len(m.Layers)+1))
	if text := get(t, ctx, "read the editor", chromedp.Value("#code")); text != string(src) {
		t.Errorf("the editor holds %d bytes, want resnet18.cnn's %d", len(text), len(src))
	}
	if total := get(t, ctx, "read the total", chromedp.TextContent("#table tbody tr.total")); !strings.Contains(total, compiler.Comma(m.Params)) {
		t.Errorf("resnet18's total row %q lacks its %s parameters", total, compiler.Comma(m.Params))
	}
	tall := checkPicture(t, ctx)
	screenshot(t, ctx, "playground-zoo.png")

	// One box per block: a shorter picture.
	before := checks(t, ctx)
	do(t, ctx, "collapse the blocks", chromedp.Click("#collapse"))
	wait(t, ctx, "the collapsed picture", `document.getElementById("collapse").checked && document.body.dataset.checks > `+strconv.Itoa(before))
	if short := checkPicture(t, ctx); short >= tall || short == 0 {
		t.Errorf("the collapsed picture is %d pixels tall, the whole one %d", short, tall)
	}
	screenshot(t, ctx, "playground-collapsed.png")

	// A reload brings the last text back.
	do(t, ctx, "reload the page", chromedp.Reload())
	wait(t, ctx, "the page", `document.body.dataset.state === "ready" && document.querySelectorAll("#table tbody tr").length === `+strconv.Itoa(len(m.Layers)+1))
	if text, ex := get(t, ctx, "read the editor", chromedp.Value("#code")), get(t, ctx, "read the example", chromedp.Value("#examples")); text != string(src) || ex != "resnet18.cnn" {
		t.Errorf("after a reload the editor holds %d bytes of example %q, want resnet18.cnn's %d", len(text), ex, len(src))
	}

	// The underlines and the line numbers scroll with the text, to the end.
	do(t, ctx, "pick googlenet", chromedp.SetValue("#examples", "googlenet.cnn"))
	wait(t, ctx, "googlenet's table", `document.getElementById("title").textContent.startsWith("GoogLeNet")`)
	scroll := get(t, ctx, "scroll to the end", chromedp.Evaluate[[6]int](`(() => {
		const c = document.getElementById("code"), m = document.getElementById("marks"), g = document.getElementById("gutter");
		c.scrollTop = c.scrollHeight; c.scrollLeft = c.scrollWidth; c.dispatchEvent(new Event("scroll"));
		return [c.scrollTop, m.scrollTop, g.scrollTop, c.scrollLeft, m.scrollLeft, c.scrollTop > 0 && c.scrollLeft > 0 ? 1 : 0]; })()`))
	if scroll[5] != 1 || scroll[0] != scroll[1] || scroll[0] != scroll[2] || scroll[3] != scroll[4] {
		t.Errorf("scrolled to the end, the editor, underlines and gutter are at top %d, %d, %d, left %d, %d (scrolled %d)", scroll[0], scroll[1], scroll[2], scroll[3], scroll[4], scroll[5])
	}

	// How long a check of the largest network takes, for the record (-v).
	ms := get(t, ctx, "time a check", chromedp.Evaluate[float64](`(() => {
		const z = window.zoo.find((z) => z.name === "resnet152.cnn"), t0 = performance.now();
		for (let i = 0; i < 5; i++) cnnc.check(z.name, z.text, false);
		return (performance.now() - t0) / 5; })()`))
	t.Logf("cnnc.check of resnet152.cnn in the browser: %.1f ms", ms)
}

// settled is true once the page has checked the text as it is (typing
// over, no check waiting for its pause).
const settled = `!document.body.dataset.pending && `

// typeText empties the editor and types text into it key by key, as a
// person would.
func typeText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	do(t, ctx, "type the network",
		chromedp.Evaluate[Void](`void (document.getElementById("code").value = "")`),
		chromedp.SendKeys("#code", text))
}

// checkPicture checks the browser drew the picture and returns its height.
func checkPicture(t *testing.T, ctx context.Context) int {
	t.Helper()
	size := get(t, ctx, "read the picture", chromedp.Evaluate[[2]int](
		`(async () => { const i = document.getElementById("svg"); if (i.hidden) return [0, 0]; await i.decode(); return [i.naturalWidth, i.naturalHeight]; })()`,
		chromedp.EvalAwaitPromise))
	if size[0] == 0 || size[1] == 0 {
		t.Errorf("no picture: %q", get(t, ctx, "read why", chromedp.TextContent("#nopicture")))
	}
	return size[1]
}

// checks is how many checks the page has shown.
func checks(t *testing.T, ctx context.Context) int {
	t.Helper()
	return get(t, ctx, "count the checks", chromedp.Evaluate[int](`Number(document.body.dataset.checks)`))
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if *shots == "" {
		return
	}
	png := get(t, ctx, "take "+name, chromedp.CaptureScreenshot())
	if err := os.MkdirAll(*shots, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*shots, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

type Void = chromedp.Void

// wait polls the page until the JavaScript expression is true.
func wait(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	get(t, ctx, "wait for "+what, chromedp.Poll[Void](expr, chromedp.WithPollingTimeout(20*time.Second)))
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[Void]) {
	t.Helper()
	get(t, ctx, what, chromedp.Steps(steps...))
}

func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
