package lsp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// client speaks the protocol to a server over pipes, as an editor does.
type client struct {
	t      testing.TB
	w      *io.PipeWriter
	r      *bufio.Reader
	id     int
	queue  []*message // notifications read while waiting for a response
	done   chan result
	closed bool
}

type result struct {
	code int
	err  error
}

// newClient starts a server on pipes. Every read has a deadline: a server
// that does not answer fails the test instead of hanging it.
func newClient(t testing.TB) *client {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	c := &client{t: t, w: inW, r: bufio.NewReader(outR), done: make(chan result, 1)}
	go func() {
		code, err := Serve(inR, outW, io.Discard)
		outW.Close()
		inR.Close()
		c.done <- result{code, err}
	}()
	t.Cleanup(func() { inW.Close(); outR.Close() })
	return c
}

// initialized is a client whose server has been through initialize.
func initialized(t testing.TB) *client {
	c := newClient(t)
	var r initializeResult
	if err := c.call("initialize", map[string]any{"processId": nil, "capabilities": map[string]any{}}, &r); err != nil {
		t.Fatal(err)
	}
	c.notify("initialized", map[string]any{})
	return c
}

func (c *client) send(m *message) {
	c.t.Helper()
	if err := writeFrame(c.w, m); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads the next message from the server, failing after a deadline.
func (c *client) read() *message {
	c.t.Helper()
	type got struct {
		m   *message
		err error
	}
	ch := make(chan got, 1)
	go func() {
		body, err := readFrame(c.r)
		if err != nil {
			ch <- got{nil, err}
			return
		}
		var m message
		err = json.Unmarshal(body, &m)
		ch <- got{&m, err}
	}()
	select {
	case g := <-ch:
		if g.err != nil {
			c.t.Fatalf("read: %v", g.err)
		}
		return g.m
	case <-time.After(20 * time.Second):
		c.t.Fatal("the server did not answer within 20 s")
	}
	return nil
}

// call sends a request and decodes its result into out; it returns the
// response's error.
func (c *client) call(method string, params, out any) *rpcError {
	c.t.Helper()
	c.id++
	id := json.RawMessage(fmt.Sprint(c.id))
	raw, _ := json.Marshal(params)
	c.send(&message{ID: id, Method: method, Params: raw})
	for {
		m := c.read()
		if m.Method != "" {
			c.queue = append(c.queue, m)
			continue
		}
		if string(m.ID) != string(id) {
			c.t.Fatalf("response to %s, want %s", m.ID, id)
		}
		if m.Error != nil {
			return m.Error
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				c.t.Fatalf("%s: result %s: %v", method, m.Result, err)
			}
		}
		return nil
	}
}

func (c *client) notify(method string, params any) {
	c.t.Helper()
	raw, _ := json.Marshal(params)
	c.send(&message{Method: method, Params: raw})
}

// diagnostics returns the next diagnostics the server published.
func (c *client) diagnostics() PublishDiagnostics {
	c.t.Helper()
	for {
		var m *message
		if len(c.queue) > 0 {
			m, c.queue = c.queue[0], c.queue[1:]
		} else {
			m = c.read()
		}
		if m.Method == "textDocument/publishDiagnostics" {
			var p PublishDiagnostics
			if err := json.Unmarshal(m.Params, &p); err != nil {
				c.t.Fatal(err)
			}
			return p
		}
	}
}

// open opens a document with text and returns its diagnostics.
func (c *client) open(uri, text string) []Diagnostic {
	c.t.Helper()
	c.notify("textDocument/didOpen", didOpenParams{TextDocument: textDocumentItem{URI: uri, LanguageID: "cnn", Version: 1, Text: text}})
	p := c.diagnostics()
	if p.URI != uri {
		c.t.Fatalf("diagnostics of %s, want %s", p.URI, uri)
	}
	return p.Diagnostics
}

// exit ends the session and returns the server's exit code.
func (c *client) exit() int {
	c.t.Helper()
	c.notify("exit", nil)
	select {
	case r := <-c.done:
		if r.err != nil {
			c.t.Fatalf("Serve: %v", r.err)
		}
		return r.code
	case <-time.After(20 * time.Second):
		c.t.Fatal("the server did not exit")
	}
	return -1
}

func at(uri string, line, char int) positionParams {
	return positionParams{TextDocument: textDocumentIdentifier{URI: uri}, Position: Position{Line: line, Character: char}}
}

// zoo reads a network of networks/.
func zoo(t testing.TB, name string) (uri, text string) {
	t.Helper()
	path := filepath.Join("..", "networks", name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	return "file://" + filepath.ToSlash(abs), string(b)
}

// writeFrameBytes frames an arbitrary body, JSON or not.
func writeFrameBytes(w io.Writer, body []byte) error {
	if _, err := fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}
