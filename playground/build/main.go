// Command build writes the servable playground (the page, wasm_exec.js and
// cnnc.wasm) into a directory: `go generate ./playground` runs it with
// -o site, or `go run ./playground/build -o DIR` from the module.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/cnnc-dev/cnnc/playground"
)

func main() {
	out := flag.String("o", "site", "the directory to write")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: build [-o DIR]")
		os.Exit(2)
	}
	if err := playground.Build(*out); err != nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}
