package lsp

// The subset of the Language Server Protocol (3.17) that cnnc speaks,
// written by hand: the types of the messages it reads and writes.

// Position is a place in a document: a 0-based line and a 0-based column
// counted in UTF-16 code units, as LSP requires.
type Position struct {
	Line      int `json:"line"`
	Character int `json:"character"`
}

// Range is [Start, End).
type Range struct {
	Start Position `json:"start"`
	End   Position `json:"end"`
}

// Location is a range in a document.
type Location struct {
	URI   string `json:"uri"`
	Range Range  `json:"range"`
}

type textDocumentIdentifier struct {
	URI string `json:"uri"`
}

type textDocumentItem struct {
	URI        string `json:"uri"`
	LanguageID string `json:"languageId"`
	Version    int    `json:"version"`
	Text       string `json:"text"`
}

type didOpenParams struct {
	TextDocument textDocumentItem `json:"textDocument"`
}

type contentChange struct {
	Range *Range `json:"range,omitempty"`
	Text  string `json:"text"`
}

type didChangeParams struct {
	TextDocument struct {
		URI     string `json:"uri"`
		Version int    `json:"version"`
	} `json:"textDocument"`
	ContentChanges []contentChange `json:"contentChanges"`
}

type didCloseParams struct {
	TextDocument textDocumentIdentifier `json:"textDocument"`
}

type positionParams struct {
	TextDocument textDocumentIdentifier `json:"textDocument"`
	Position     Position               `json:"position"`
}

type referenceParams struct {
	positionParams
	Context struct {
		IncludeDeclaration bool `json:"includeDeclaration"`
	} `json:"context"`
}

type rangeParams struct {
	TextDocument textDocumentIdentifier `json:"textDocument"`
	Range        Range                  `json:"range"`
}

type formattingParams struct {
	TextDocument textDocumentIdentifier `json:"textDocument"`
}

// The params of requests on one open document.
func (p positionParams) uri() string   { return p.TextDocument.URI }
func (p rangeParams) uri() string      { return p.TextDocument.URI }
func (p formattingParams) uri() string { return p.TextDocument.URI }

// Diagnostic is one error of a document.
type Diagnostic struct {
	Range              Range                `json:"range"`
	Severity           int                  `json:"severity"`
	Source             string               `json:"source"`
	Message            string               `json:"message"`
	RelatedInformation []RelatedInformation `json:"relatedInformation,omitempty"`
}

// RelatedInformation is a note of a diagnostic (a call site, say).
type RelatedInformation struct {
	Location Location `json:"location"`
	Message  string   `json:"message"`
}

const severityError = 1

// PublishDiagnostics is the notification textDocument/publishDiagnostics.
type PublishDiagnostics struct {
	URI         string       `json:"uri"`
	Version     *int         `json:"version,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics"`
}

// Hover is the answer to textDocument/hover.
type Hover struct {
	Contents MarkupContent `json:"contents"`
	Range    *Range        `json:"range,omitempty"`
}

// MarkupContent is text for the editor to show.
type MarkupContent struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// InlayHint is a label shown inside the text.
type InlayHint struct {
	Position    Position `json:"position"`
	Label       string   `json:"label"`
	Kind        int      `json:"kind,omitempty"`
	PaddingLeft bool     `json:"paddingLeft,omitempty"`
}

const inlayHintType = 1

// TextEdit replaces a range with new text.
type TextEdit struct {
	Range   Range  `json:"range"`
	NewText string `json:"newText"`
}

// CompletionItem is one proposal of textDocument/completion.
type CompletionItem struct {
	Label      string `json:"label"`
	Kind       int    `json:"kind,omitempty"`
	Detail     string `json:"detail,omitempty"`
	InsertText string `json:"insertText,omitempty"`
}

// CompletionItemKind values.
const (
	completionFunction = 3
	completionVariable = 6
	completionProperty = 10
	completionKeyword  = 14
)

// CompletionList is the answer to textDocument/completion.
type CompletionList struct {
	IsIncomplete bool             `json:"isIncomplete"`
	Items        []CompletionItem `json:"items"`
}

type initializeResult struct {
	Capabilities serverCapabilities `json:"capabilities"`
	ServerInfo   struct {
		Name string `json:"name"`
	} `json:"serverInfo"`
}

type serverCapabilities struct {
	TextDocumentSync struct {
		OpenClose bool `json:"openClose"`
		Change    int  `json:"change"`
	} `json:"textDocumentSync"`
	HoverProvider              bool `json:"hoverProvider"`
	DefinitionProvider         bool `json:"definitionProvider"`
	ReferencesProvider         bool `json:"referencesProvider"`
	DocumentFormattingProvider bool `json:"documentFormattingProvider"`
	InlayHintProvider          bool `json:"inlayHintProvider"`
	DocumentSymbolProvider     bool `json:"documentSymbolProvider"`
	CompletionProvider         struct {
		TriggerCharacters []string `json:"triggerCharacters"`
	} `json:"completionProvider"`
}

// syncIncremental is TextDocumentSyncKind.Incremental: the server applies
// ranged changes (a change without a range replaces the whole text).
const syncIncremental = 2
