// Package lsp is cnnc's language server (`cnnc lsp`): LSP over JSON-RPC 2.0
// on a byte stream, written by hand for the subset of the protocol it
// needs. It publishes every error of `cnnc check` as a diagnostic while the
// user types, shows a layer's shapes, parameters and MACs on hover and its
// output shape as an inlay hint, goes to the definition and references of
// blocks and their parameters, outlines the file, formats with `cnnc fmt`'s
// printer and completes layer words, flags and train settings. It reads the front end
// (grammar, dsl, compiler, op) and nothing reads it.
package lsp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path"
)

// Server is one language server connection.
type Server struct {
	out      io.Writer
	log      io.Writer
	docs     map[string]*document
	state    int
	exitCode int
}

// Lifecycle states.
const (
	stateNew = iota
	stateRunning
	stateShutDown
	stateExited
)

type document struct {
	uri     string
	version int
	text    string
	a       *analysis
}

// Serve runs a server reading requests from in and writing to out until
// the client sends exit or closes in; log receives what the server has to
// say about itself. It returns the process's exit code: 0 after shutdown
// and exit, 1 otherwise (LSP's rule), and an error when the stream broke.
// A body that is not JSON, or not a message, is answered with an error and
// the server goes on; a header that cannot be read ends it, since the
// boundaries of the messages after it are lost.
func Serve(in io.Reader, out io.Writer, log io.Writer) (int, error) {
	s := &Server{out: out, log: log, docs: map[string]*document{}, exitCode: 1}
	r := bufio.NewReader(in)
	for s.state != stateExited {
		body, err := readFrame(r)
		if err == io.EOF {
			return 1, nil
		}
		if err != nil {
			return 1, err
		}
		if err := s.handle(body); err != nil {
			return 1, err
		}
	}
	return s.exitCode, nil
}

// handle answers one message; the error is one of writing the answer.
func (s *Server) handle(body []byte) error {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return s.reply(json.RawMessage("null"), nil, &rpcError{Code: codeParseError, Message: "parse error: " + err.Error()})
	}
	isRequest := len(m.ID) > 0 && string(m.ID) != "null"
	if m.Method == "" {
		if isRequest && m.Result == nil && m.Error == nil {
			return s.reply(m.ID, nil, &rpcError{Code: codeInvalidRequest, Message: "a request needs a method"})
		}
		return nil // a response to a request the server never sends
	}
	result, rerr := s.dispatch(m.Method, m.Params, isRequest)
	if !isRequest {
		if rerr != nil && rerr.Code != codeMethodNotFound {
			fmt.Fprintf(s.log, "cnnc lsp: %s: %s\n", m.Method, rerr.Message)
		}
		return nil
	}
	return s.reply(m.ID, result, rerr)
}

func (s *Server) reply(id json.RawMessage, result any, rerr *rpcError) error {
	m := &message{ID: id}
	if rerr != nil {
		m.Error = rerr
	} else {
		raw, err := json.Marshal(result)
		if err != nil {
			m.Error = &rpcError{Code: codeInternalError, Message: err.Error()}
		} else {
			m.Result = raw
		}
	}
	return writeFrame(s.out, m)
}

func (s *Server) notify(method string, params any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	return writeFrame(s.out, &message{Method: method, Params: raw})
}

// decode reads params into v, or says why not.
func decode(params json.RawMessage, v any) *rpcError {
	if len(params) == 0 {
		return &rpcError{Code: codeInvalidParams, Message: "missing params"}
	}
	if err := json.Unmarshal(params, v); err != nil {
		return &rpcError{Code: codeInvalidParams, Message: "invalid params: " + err.Error()}
	}
	return nil
}

func (s *Server) dispatch(method string, params json.RawMessage, isRequest bool) (any, *rpcError) {
	switch {
	case method == "exit":
		if s.state == stateShutDown {
			s.exitCode = 0
		}
		s.state = stateExited
		return nil, nil
	case method == "initialize":
		if s.state != stateNew {
			return nil, &rpcError{Code: codeInvalidRequest, Message: "initialize sent twice"}
		}
		s.state = stateRunning
		return capabilities(), nil
	case s.state == stateNew:
		if !isRequest {
			return nil, nil // notifications before initialize are dropped
		}
		return nil, &rpcError{Code: codeNotInitialized, Message: "the server is not initialized"}
	case s.state == stateShutDown:
		return nil, &rpcError{Code: codeInvalidRequest, Message: "the server is shut down"}
	case method == "initialized", method == "$/cancelRequest", method == "$/setTrace",
		method == "workspace/didChangeConfiguration", method == "textDocument/didSave":
		return nil, nil
	case method == "shutdown":
		s.state = stateShutDown
		return nil, nil
	}
	h, ok := handlers[method]
	if !ok {
		return nil, &rpcError{Code: codeMethodNotFound, Message: "method not found: " + method}
	}
	return h(s, params)
}

var handlers map[string]func(*Server, json.RawMessage) (any, *rpcError)

func init() {
	handlers = map[string]func(*Server, json.RawMessage) (any, *rpcError){
		"textDocument/didOpen":        (*Server).didOpen,
		"textDocument/didChange":      (*Server).didChange,
		"textDocument/didClose":       (*Server).didClose,
		"textDocument/hover":          (*Server).hover,
		"textDocument/inlayHint":      (*Server).inlayHint,
		"textDocument/definition":     (*Server).definition,
		"textDocument/references":     (*Server).references,
		"textDocument/formatting":     (*Server).formatting,
		"textDocument/completion":     (*Server).completion,
		"textDocument/documentSymbol": (*Server).documentSymbol,
	}
}

func capabilities() initializeResult {
	var r initializeResult
	r.ServerInfo.Name = "cnnc"
	c := &r.Capabilities
	c.TextDocumentSync.OpenClose = true
	c.TextDocumentSync.Change = syncIncremental
	c.HoverProvider = true
	c.DefinitionProvider = true
	c.ReferencesProvider = true
	c.DocumentFormattingProvider = true
	c.InlayHintProvider = true
	c.DocumentSymbolProvider = true
	c.CompletionProvider.TriggerCharacters = []string{" "}
	return r
}

func (s *Server) didOpen(params json.RawMessage) (any, *rpcError) {
	var p didOpenParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d := &document{uri: p.TextDocument.URI, version: p.TextDocument.Version, text: p.TextDocument.Text}
	s.docs[d.uri] = d
	return nil, s.update(d)
}

func (s *Server) didChange(params json.RawMessage) (any, *rpcError) {
	var p didChangeParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	d, ok := s.docs[p.TextDocument.URI]
	if !ok {
		return nil, &rpcError{Code: codeInvalidParams, Message: "didChange of a document that is not open: " + p.TextDocument.URI}
	}
	for _, c := range p.ContentChanges {
		if c.Range == nil {
			d.text = c.Text
			continue
		}
		t := newText(d.text)
		start, end := t.offset(c.Range.Start), t.offset(c.Range.End)
		if end < start {
			return nil, &rpcError{Code: codeInvalidParams, Message: "a change whose range ends before it starts"}
		}
		d.text = d.text[:start] + c.Text + d.text[end:]
	}
	d.version = p.TextDocument.Version
	return nil, s.update(d)
}

func (s *Server) didClose(params json.RawMessage) (any, *rpcError) {
	var p didCloseParams
	if err := decode(params, &p); err != nil {
		return nil, err
	}
	delete(s.docs, p.TextDocument.URI)
	if err := s.notify("textDocument/publishDiagnostics", PublishDiagnostics{URI: p.TextDocument.URI, Diagnostics: []Diagnostic{}}); err != nil {
		return nil, &rpcError{Code: codeInternalError, Message: err.Error()}
	}
	return nil, nil
}

// update analyses a document and publishes its diagnostics.
func (s *Server) update(d *document) *rpcError {
	d.a = analyse(fileName(d.uri), d.text)
	v := d.version
	err := s.notify("textDocument/publishDiagnostics", PublishDiagnostics{URI: d.uri, Version: &v, Diagnostics: d.a.diagnostics(d.uri)})
	if err != nil {
		return &rpcError{Code: codeInternalError, Message: err.Error()}
	}
	return nil
}

// fileName is the name positions carry: the file's base name.
func fileName(uri string) string {
	if u, err := url.Parse(uri); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return uri
}

// doc finds an open document.
// request decodes a request's params into a P and finds the open document
// they name.
func request[P interface{ uri() string }](s *Server, params json.RawMessage) (P, *document, *rpcError) {
	var p P
	if err := decode(params, &p); err != nil {
		return p, nil, err
	}
	d, err := s.doc(p.uri())
	return p, d, err
}

func (s *Server) doc(uri string) (*document, *rpcError) {
	d, ok := s.docs[uri]
	if !ok {
		return nil, &rpcError{Code: codeInvalidParams, Message: "document is not open: " + uri}
	}
	return d, nil
}
