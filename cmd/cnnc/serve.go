package main

// cnnc serve: the flags and the weights file are checked here, before any
// build; the server is the training binary of cnnc train (train/build),
// whose train.Main runs "serve" (train.Serve, on package serve). cnnc
// passes SIGINT, SIGTERM and SIGHUP on to it.

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/cnnc-dev/cnnc/internal/cli"
	"github.com/cnnc-dev/cnnc/train"
	"github.com/cnnc-dev/cnnc/train/build"
)

const serveUsage = `cnnc serve FILE.cnn --weights W.safetensors [--addr HOST:PORT] [--batch N] [--max-delay D] [--queue N]

Serves the network's predictions over HTTP: POST /v1/predict (float32
tensors: JSON, raw little-endian or .npy), POST /v1/predict/image (PNG or
JPEG, normalised as cnnc train does), POST /v1/reload, GET /healthz,
/readyz and /metrics (Prometheus). Requests are gathered into batches of up
to --batch images; a full queue answers 503 with Retry-After. SIGHUP reloads
the weights; SIGINT or SIGTERM answers the queued requests, then stops.`

func cmdServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", stderr, serveUsage)
	get := train.ServeFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", serveUsage)
		fs.PrintDefaults()
	}
	if !parseFlags(fs, cli.Reorder(fs, args), func() bool { return fs.NArg() != 1 }) {
		return exitUsage
	}
	cfg := get()
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "cnnc serve: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case cfg.Weights == "":
		return usageErr("--weights is required: an untrained network's outputs mean nothing")
	case cfg.Batch < 0:
		return usageErr("--batch %d: want at least 1 (or 0: the recipe's)", cfg.Batch)
	case cfg.Queue < 0 || cfg.MaxDelay < 0 || cfg.MaxBody < 0 || cfg.Timeout <= 0 || cfg.Drain <= 0:
		return usageErr("--queue, --max-delay and --max-body want 0 or more, --timeout and --drain more than 0")
	}
	path := fs.Arg(0)
	m, ok := compileFile(path, stderr)
	if !ok {
		return exitInput
	}
	if st, err := os.Stat(cfg.Weights); err != nil {
		fmt.Fprintf(stderr, "cnnc serve: %v\n", err)
		return exitInput
	} else if !st.Mode().IsRegular() {
		fmt.Fprintf(stderr, "cnnc serve: --weights %s: not a regular file\n", cfg.Weights)
		return exitInput
	}
	src, err := readSource(path)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc: %v\n", err)
		return exitInput
	}
	bin, err := build.Binary(m, path, src, build.Overrides{}, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "cnnc serve: %v\n", err)
		return exitInput
	}
	pass := []string{"serve"}
	fs.Visit(func(f *flag.Flag) { pass = append(pass, "--"+f.Name+"="+f.Value.String()) })
	return runForwardingSignals(bin, pass, stdout, stderr)
}

// runForwardingSignals runs bin with args, passing SIGINT, SIGTERM and
// SIGHUP on to it, and returns its exit code.
func runForwardingSignals(bin string, args []string, stdout, stderr io.Writer) int {
	c := exec.Command(bin, args...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, stdout, stderr
	sig := make(chan os.Signal, 4)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sig)
	if err := c.Start(); err != nil {
		fmt.Fprintf(stderr, "cnnc serve: %v\n", err)
		return exitInput
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	for {
		select {
		case s := <-sig:
			c.Process.Signal(s) //nolint:errcheck // it may have just exited
		case err := <-done:
			var ee *exec.ExitError
			switch {
			case err == nil:
				return exitOK
			case errors.As(err, &ee) && ee.ExitCode() > 0:
				return ee.ExitCode()
			}
			fmt.Fprintf(stderr, "cnnc serve: %v\n", err)
			return exitInput
		}
	}
}
