package lsp

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxMessage is the largest message body the server reads: a .cnn file
// (dsl.MaxFileSize) escaped as JSON, with room to spare.
const MaxMessage = 64 << 20

// maxHeader bounds one header line, so that a stream without line breaks
// cannot grow the reader's buffer.
const maxHeader = 1 << 10

// JSON-RPC 2.0 and LSP error codes.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternalError  = -32603
	codeNotInitialized = -32002
	codeRequestFailed  = -32803
)

// message is any JSON-RPC 2.0 message: a request (ID and Method), a
// notification (Method, no ID) or a response (ID, Result or Error).
type message struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("%s (%d)", e.Message, e.Code) }

// errFraming is a stream whose headers cannot be read: the message
// boundaries are lost and the connection cannot go on.
var errFraming = errors.New("lsp: bad message header")

// readFrame reads one message body framed by LSP's base protocol: header
// lines ("Content-Length: N"), an empty line, then N bytes. It returns
// io.EOF at a clean end of the stream.
func readFrame(r *bufio.Reader) ([]byte, error) {
	length := -1
	for n := 0; ; n++ {
		line, err := readLine(r)
		if err != nil {
			if err == io.EOF && n == 0 && line == "" {
				return nil, io.EOF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if n == 0 {
				continue // a stray line break between messages
			}
			break
		}
		if n > 16 {
			return nil, fmt.Errorf("%w: more than 16 header lines", errFraming)
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%w: %q is not a header", errFraming, line)
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			v, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil || v < 0 {
				return nil, fmt.Errorf("%w: Content-Length %q", errFraming, strings.TrimSpace(value))
			}
			length = v
		}
	}
	if length < 0 {
		return nil, fmt.Errorf("%w: no Content-Length", errFraming)
	}
	if length > MaxMessage {
		return nil, fmt.Errorf("%w: Content-Length %d is over the limit of %d", errFraming, length, MaxMessage)
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// readLine reads a header line without its "\r\n" (or "\n"), at most
// maxHeader bytes.
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		c, err := r.ReadByte()
		if err != nil {
			return string(b), err
		}
		if c == '\n' {
			return strings.TrimSuffix(string(b), "\r"), nil
		}
		if len(b) == maxHeader {
			return "", fmt.Errorf("%w: a header line longer than %d bytes", errFraming, maxHeader)
		}
		b = append(b, c)
	}
}

// writeFrame writes one message with its Content-Length header.
func writeFrame(w io.Writer, m *message) error {
	m.JSONRPC = "2.0"
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(w, "Content-Length: %d\r\n\r\n", len(body)); err != nil {
		return err
	}
	_, err = w.Write(body)
	return err
}
