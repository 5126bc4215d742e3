package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cnnc-dev/cnnc/gen/lenet5"
)

// TestServeEndToEnd builds the server of networks/lenet5.cnn, asks it for
// a prediction and compares it with gen/lenet5 in this process, reloads the
// weights with SIGHUP (cnnc passes it on), and stops it with SIGTERM: the
// exit is clean. Then the usage errors, before any build.
func TestServeEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Setenv("CNNC_CACHE", t.TempDir())
	dir := t.TempDir()
	w := filepath.Join(dir, "w.safetensors")
	if err := lenet5.New(1, 3).Save(w); err != nil {
		t.Fatal(err)
	}
	x := make([]float32, lenet5.InputSize)
	body := make([]byte, 4*len(x))
	for i := range x {
		x[i] = float32(math.Cos(float64(i) * 0.11))
		binary.LittleEndian.PutUint32(body[4*i:], math.Float32bits(x[i]))
	}
	logitsOf := func() []float32 {
		n := lenet5.New(1, 0)
		if err := n.Load(w); err != nil {
			t.Fatal(err)
		}
		l, err := n.Logits(x)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Clone(l)
	}
	before := logitsOf()

	pr, pw := io.Pipe()
	var errs bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- run([]string{"serve", "../../networks/lenet5.cnn", "--weights", w, "--addr", "127.0.0.1:0", "--batch", "4"}, pw, &errs)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	next := func() string {
		t.Helper()
		if !lines.Scan() {
			t.Fatalf("cnnc serve stopped: exit %d\n%s", <-exit, errs.String())
		}
		return lines.Text()
	}
	first := next()
	m := regexp.MustCompile(`^serving LeNet5 on (http://\S+) \(batch 4, weights `).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("first line %q", first)
	}
	predict := func() (int64, []float32) {
		t.Helper()
		r, err := http.Post(m[1]+"/v1/predict", "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		var resp struct {
			Version int64
			Logits  [][]float32
		}
		if err := json.NewDecoder(r.Body).Decode(&resp); err != nil || r.StatusCode != 200 || len(resp.Logits) != 1 {
			t.Fatalf("predict: %s, %v", r.Status, err)
		}
		return resp.Version, resp.Logits[0]
	}
	if v, l := predict(); v != 1 || !slices.Equal(l, before) {
		t.Errorf("version %d, logits %v; want 1 and %v", v, l, before)
	}
	if err := lenet5.New(1, 4).Save(w); err != nil {
		t.Fatal(err)
	}
	after := logitsOf()
	syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
	if l := next(); l != "reloaded "+w+": weights version 2" {
		t.Errorf("after SIGHUP: %q", l)
	}
	if v, l := predict(); v != 2 || !slices.Equal(l, after) {
		t.Errorf("after the reload: version %d, logits %v; want 2 and %v", v, l, after)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	if l := next(); l != "terminated: finishing the queued requests" {
		t.Errorf("after SIGTERM: %q", l)
	}
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d after SIGTERM\n%s", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("cnnc serve did not stop after SIGTERM")
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve", "../../networks/lenet5.cnn"}, exitUsage, "--weights is required"},
		{[]string{"serve", "../../networks/lenet5.cnn", "--weights", w, "--batch", "-1"}, exitUsage, "--batch -1"},
		{[]string{"serve", "../../networks/lenet5.cnn", "--weights", filepath.Join(dir, "missing")}, exitInput, "no such file"},
		{[]string{"serve", "--weights", w}, exitUsage, "usage: cnnc serve"},
	} {
		code, _, stderr := cnnc(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("cnnc %q: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}
