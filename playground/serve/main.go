// Command serve builds the playground and serves it: `go run
// ./playground/serve` from the module, then open the address it prints.
// -dir serves a directory built before (go generate ./playground) instead.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/cnnc-dev/cnnc/playground"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "the address to listen on")
	dir := flag.String("dir", "", "serve this built directory instead of building one")
	flag.Parse()
	if flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: serve [-addr HOST:PORT] [-dir DIR]")
		os.Exit(2)
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "cnnc-playground")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintln(os.Stderr, "building the playground (GOOS=js GOARCH=wasm) ...")
		if err := playground.Build(tmp); err != nil {
			log.Fatal(err)
		}
		*dir = tmp
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("the playground is at http://%s/\n", ln.Addr())
	log.Fatal(http.Serve(ln, http.FileServer(http.Dir(*dir))))
}
