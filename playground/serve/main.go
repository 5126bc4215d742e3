// Command serve builds the playground and serves it: `go run
// ./playground/serve` from the module, then open the address it prints.
// -dir serves a directory built before (go generate ./playground) instead.
package main

import (
	"flag"
	"fmt"
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
	if err := serve(*addr, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}

func serve(addr, dir string) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cnnc-playground")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		fmt.Fprintln(os.Stderr, "building the playground (GOOS=js GOARCH=wasm) ...")
		if err := playground.Build(tmp); err != nil {
			return err
		}
		dir = tmp
	} else if _, err := os.Stat(dir + "/cnnc.wasm"); err != nil {
		return fmt.Errorf("%s is not a built playground (go generate ./playground): %w", dir, err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("the playground is at http://%s/\n", ln.Addr())
	return http.Serve(ln, http.FileServer(http.Dir(dir)))
}
