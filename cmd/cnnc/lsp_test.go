package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLSPEndToEnd builds cnnc and runs `cnnc lsp` as a process and speaks the protocol
// over its stdin and stdout: initialize, open a broken network, read its
// diagnostics, hover, shut down and exit with code 0.
func TestLSPEndToEnd(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cnnc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "lsp", "--stdio")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(60*time.Second, func() { cmd.Process.Kill() })
	defer timer.Stop()
	r := bufio.NewReader(stdout)
	send := func(msg string) {
		if _, err := fmt.Fprintf(stdin, "Content-Length: %d\r\n\r\n%s", len(msg), msg); err != nil {
			t.Fatal(err)
		}
	}
	recv := func() map[string]any {
		length := -1
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading a header: %v (stderr: %s)", err, stderr.String())
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}`)
	if m := recv(); m["id"] != 1.0 || m["result"] == nil {
		t.Fatalf("initialize: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"initialized","params":{}}`)
	text, _ := json.Marshal("input 32x32x3\nconv 16 3x3 p1 -> relu\n-> conv 24 3x3 g5\n")
	send(`{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file:///tmp/e2e.cnn","languageId":"cnn","version":1,"text":` + string(text) + `}}}`)
	m := recv()
	params, _ := m["params"].(map[string]any)
	ds, _ := params["diagnostics"].([]any)
	if m["method"] != "textDocument/publishDiagnostics" || len(ds) != 1 || !strings.Contains(fmt.Sprint(ds[0]), "do not divide into 5 groups") {
		t.Fatalf("diagnostics: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///tmp/e2e.cnn"},"position":{"line":1,"character":2}}}`)
	if m := recv(); !strings.Contains(fmt.Sprint(m["result"]), "32x32x16") {
		t.Fatalf("hover: %v", m)
	}
	send(`{"jsonrpc":"2.0","id":3,"method":"shutdown"}`)
	if m := recv(); m["id"] != 3.0 || m["error"] != nil {
		t.Fatalf("shutdown: %v", m)
	}
	send(`{"jsonrpc":"2.0","method":"exit"}`)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cnnc lsp exited with %v (stderr: %s)", err, stderr.String())
	}
}

func TestLSPUsage(t *testing.T) {
	var stderr strings.Builder
	if code := run([]string{"lsp", "--tcp"}, io.Discard, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "usage: cnnc lsp") {
		t.Fatalf("cnnc lsp --tcp: code %d, %q", code, stderr.String())
	}
}
