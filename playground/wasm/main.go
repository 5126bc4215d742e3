//go:build js && wasm

// Command wasm is the playground's WebAssembly half: it sets
// globalThis.cnnc to {check, zoo} for web/playground.js and waits.
//
//	cnnc.check(name, text, collapse) -> JSON of playground.Result
//	cnnc.zoo()                       -> JSON [{name, text}] of networks/*.cnn
package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"syscall/js"

	"github.com/cnnc-dev/cnnc/networks"
	"github.com/cnnc-dev/cnnc/playground"
)

func main() {
	js.Global().Set("cnnc", js.ValueOf(map[string]any{
		"check": js.FuncOf(check),
		"zoo":   js.FuncOf(zoo),
	}))
	if ready := js.Global().Get("cnncReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// check is cnnc.check(name, text, collapse). A panic in the compiler is a
// bug; it is shown on the page instead of ending the program.
func check(this js.Value, args []js.Value) (out any) {
	defer func() {
		if p := recover(); p != nil {
			out = asJSON(&playground.Result{Errors: fmt.Sprintf("internal error (a bug in cnnc, please report it with this text): %v\n", p)})
		}
	}()
	if len(args) != 3 {
		return asJSON(&playground.Result{Errors: "cnnc.check wants (name, text, collapse)\n"})
	}
	r := playground.Check(args[0].String(), []byte(args[1].String()), playground.Options{Collapse: args[2].Truthy()})
	return asJSON(r)
}

// zoo is cnnc.zoo(): the zoo's files in name order.
func zoo(this js.Value, args []js.Value) any {
	type file struct {
		Name string `json:"name"`
		Text string `json:"text"`
	}
	var files []file
	names, _ := fs.Glob(networks.Files, "*.cnn")
	for _, n := range names {
		b, err := networks.Files.ReadFile(n)
		if err == nil {
			files = append(files, file{n, string(b)})
		}
	}
	return asJSON(files)
}

func asJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf(`{"errors": %q}`, err.Error()+"\n")
	}
	return string(b)
}
