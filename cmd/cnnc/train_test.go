package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/safetensors"
	"github.com/cnnc-dev/cnnc/train"
)

// TestTrainErrorsBeforeBuild: errors in the .cnn and in the flags are
// reported by cnnc itself, before anything is built.
func TestTrainErrorsBeforeBuild(t *testing.T) {
	t.Setenv("CNNC_CACHE", t.TempDir())
	var stdout, stderr, check bytes.Buffer
	code := run([]string{"train", "testdata/train/bad.cnn", "--epochs", "1", "--out", t.TempDir()}, &stdout, &stderr)
	run([]string{"check", "testdata/train/bad.cnn"}, &stdout, &check)
	if code != exitInput || stderr.String() != check.String() || !strings.HasPrefix(stderr.String(), "testdata/train/bad.cnn:4:1: ") {
		t.Errorf("exit %d, stderr:\n%s\nwant what cnnc check prints:\n%s", code, stderr.String(), check.String())
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train"}, exitUsage, "usage: cnnc train"},
		{[]string{"train", "testdata/train/tiny.cnn", "--augment", "rotate 3"}, exitUsage, "unknown \"rotate\""},
		{[]string{"train", "testdata/train/tiny.cnn", "--resume"}, exitUsage, "needs --out"},
		{[]string{"train", "testdata/train/tiny.cnn", "--momentum", "2"}, exitUsage, "--momentum 2"},
		{[]string{"train", "nope.cnn"}, exitInput, "nope.cnn"},
		{[]string{"eval"}, exitUsage, "usage: cnnc eval"},
		{[]string{"eval", "nope.safetensors"}, exitInput, "nope.safetensors"},
	} {
		stderr.Reset()
		if code := run(tc.args, &stdout, &stderr); code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("cnnc %s: exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr.String(), tc.code, tc.want)
		}
	}
	// A weights file without a recorded .cnn needs --net.
	w := filepath.Join(t.TempDir(), "w.safetensors")
	safetensors.Save(w, []safetensors.Tensor{{Name: "x", Shape: []int{1}, Data: []float32{1}}}, nil)
	stderr.Reset()
	if code := run([]string{"eval", w}, &stdout, &stderr); code != exitInput || !strings.Contains(stderr.String(), "give --net") {
		t.Errorf("eval of a weights file: %d %q", code, stderr.String())
	}
	// An ensemble must be of one network.
	var cks []string
	for i, src := range []string{"network A\n", "network B\n"} {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("c%d.safetensors", i))
		meta := map[string]string{"format": train.CheckpointFormat, "epoch": "1", "source": src, "source_path": "x.cnn"}
		safetensors.Save(p, []safetensors.Tensor{{Name: "x", Shape: []int{1}, Data: []float32{1}}}, meta)
		cks = append(cks, p)
	}
	stderr.Reset()
	if code := run([]string{"eval", cks[0], cks[1]}, &stdout, &stderr); code != exitInput || !strings.Contains(stderr.String(), "an ensemble needs one network") {
		t.Errorf("ensemble of two networks: %d %q", code, stderr.String())
	}
	// The recorded source is compiled, and its errors reported, before any build.
	stderr.Reset()
	if code := run([]string{"eval", cks[0]}, &stdout, &stderr); code != exitInput || !strings.HasPrefix(stderr.String(), "x.cnn:") {
		t.Errorf("eval of a checkpoint with a broken source: %d %q", code, stderr.String())
	}
}

// writeTinyData writes idx files of n 8x8 images of 3 classes: a bright bar
// (+30) on rows 1-2, 3-4 or 5-6 over strong noise, and with badLabel a last label 7 (out of range).
func writeTinyData(t *testing.T, dir, name string, n int, seed uint32, badLabel bool) (images, labels string) {
	t.Helper()
	s := seed
	rnd := func() uint32 { s = s*1664525 + 1013904223; return s >> 8 }
	var im, lb bytes.Buffer
	im.Write([]byte{0, 0, 8, 3})
	binary.Write(&im, binary.BigEndian, []uint32{uint32(n), 8, 8})
	lb.Write([]byte{0, 0, 8, 1})
	binary.Write(&lb, binary.BigEndian, uint32(n))
	for i := 0; i < n; i++ {
		k := int(rnd() % 3)
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				p := byte(rnd() % 200)
				if y == 2*k+1 || y == 2*k+2 {
					p = byte(min(255, int(p)+30))
				}
				im.WriteByte(p)
			}
		}
		if badLabel && i == n-1 {
			k = 7
		}
		lb.WriteByte(byte(k))
	}
	images, labels = filepath.Join(dir, name+"-images"), filepath.Join(dir, name+"-labels")
	if err := os.WriteFile(images, im.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labels, lb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return images, labels
}

func cnnc(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func weights(t *testing.T, path string) map[string][]float32 {
	t.Helper()
	f, err := safetensors.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]float32{}
	for _, n := range f.Names() {
		v, _ := f.Get(n)
		m[n] = v.Data
	}
	return m
}

// TestTrainEndToEnd builds the training binary of testdata/train/tiny.cnn
// (bn, dropout, schedule at, augment pad mirror, no batch: the lecture's
// 128) and runs cnnc train, --resume and cnnc eval through it.
func TestTrainEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	t.Setenv("CNNC_CACHE", t.TempDir())
	dir := t.TempDir()
	ti, tl := writeTinyData(t, dir, "train", 1200, 1, false)
	vi, vl := writeTinyData(t, dir, "test", 300, 2, false)
	_, bl := writeTinyData(t, dir, "bad", 1200, 1, true)
	dataArg := "idx:" + strings.Join([]string{ti, tl, vi, vl}, ",")
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	common := []string{"train", "testdata/train/tiny.cnn", "--data", dataArg, "--progress=off", "--deterministic"}

	code, out, errs := cnnc(t, append(common, "--out", a)...)
	if code != exitOK {
		t.Fatalf("cnnc train: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "cnnc: building Tiny") {
		t.Errorf("stderr does not say it builds: %q", errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "Tiny: batch 128, lr 0.05, momentum 0.9, decay 0.0001, schedule at, augment pad 1 mirror") {
		t.Errorf("header %q: want the .cnn's recipe with the lecture's batch 128", lines[0])
	}
	last := lines[len(lines)-1]
	if len(lines) != 5 || !strings.HasPrefix(last, "test accuracy: ") || !strings.HasPrefix(lines[3], "epoch 3/3") {
		t.Fatalf("stdout:\n%s", out)
	}
	t.Logf("tiny: %s", last)
	var acc float64
	if _, err := fmt.Sscanf(last, "test accuracy: %f%%", &acc); err != nil || acc < 50 {
		t.Errorf("tiny net reached %.2f%% (%v), want at least 50%% (chance 33%%)", acc, err)
	}
	// schedule at 2 divide 10: epochs 1, 2 at 0.05, epoch 3 at 0.005.
	logb, err := os.ReadFile(filepath.Join(a, train.LogName))
	if err != nil {
		t.Fatal(err)
	}
	var lrs []float64
	best := 0.0
	for _, l := range strings.Split(strings.TrimSpace(string(logb)), "\n") {
		var e train.EpochLog
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		lrs = append(lrs, e.LR)
		best = max(best, e.TestAcc)
	}
	if len(lrs) != 3 || lrs[0] != 0.05 || lrs[1] != 0.05 || math.Abs(lrs[2]-0.005) > 1e-12 {
		t.Errorf("learning rates %v, want [0.05 0.05 0.005]", lrs)
	}

	// 2 epochs, then --resume to 3: bit for bit the 3 straight epochs
	// (weights, bn running statistics, momentum; dropout masks and the
	// loader's shuffling and augmentation restored).
	if code, out, errs := cnnc(t, append(common, "--out", b, "--epochs", "2")...); code != exitOK {
		t.Fatalf("2 epochs: %d\n%s\n%s", code, out, errs)
	}
	if code, out, errs := cnnc(t, append(common, "--out", b, "--resume")...); code != exitOK {
		t.Fatalf("--resume: %d\n%s\n%s", code, out, errs)
	} else if strings.Contains(errs, "building") {
		t.Errorf("the second run rebuilt the binary: %q", errs)
	}
	wa, wb := weights(t, filepath.Join(a, train.LastName)), weights(t, filepath.Join(b, train.LastName))
	if _, ok := wa["bn1.running_var"]; !ok || len(wa) != len(wb) {
		t.Fatalf("tensors %d and %d, bn1.running_var present: %v", len(wa), len(wb), ok)
	}
	for n, va := range wa {
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(wb[n][i]) {
				t.Fatalf("%s[%d]: %v straight, %v resumed", n, i, va[i], wb[n][i])
			}
		}
	}

	// eval: one checkpoint, then an ensemble.
	// Evaluation is eval mode (no dropout, bn running statistics): the best
	// checkpoint scores what the run measured, every time.
	for range 2 {
		code, out, errs = cnnc(t, "eval", filepath.Join(a, train.BestName), "--data", dataArg)
		want := fmt.Sprintf("test accuracy: %.2f%%", 100*best)
		if code != exitOK || !strings.HasPrefix(out, want) {
			t.Errorf("eval: %d\n%s\n%s\nwant %q", code, out, errs, want)
		}
	}
	c := filepath.Join(dir, "c")
	if code, out, errs := cnnc(t, append(common, "--out", c, "--seed", "5", "--epochs", "1")...); code != exitOK {
		t.Fatalf("seed 5: %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = cnnc(t, "eval", filepath.Join(a, train.LastName), filepath.Join(c, train.LastName), "--data", dataArg)
	ls := strings.Split(strings.TrimSpace(out), "\n")
	if code != exitOK || len(ls) != 3 || !strings.HasPrefix(ls[2], "ensemble of 2: test accuracy: ") {
		t.Errorf("ensemble eval: %d\n%s\n%s", code, out, errs)
	}

	// Errors from the binary: exit 1 and a message.
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", f}, "is a file, not a directory"},
		{[]string{"--out", filepath.Join(dir, "d"), "--data", "idx:" + ti + "," + bl + "," + vi + "," + vl}, "label 7 of sample 1199 is out of range for 3 classes"},
		{[]string{"--out", filepath.Join(dir, "d"), "--data", "mnist"}, "MNIST is 28x28x1 with 10 classes"},
		{[]string{"--out", b, "--resume", "--seed", "9"}, "the checkpoint was trained with"},
	} {
		args := append(append([]string{}, common...), tc.args...)
		if code, _, errs := cnnc(t, args...); code != exitInput || !strings.Contains(errs, tc.want) {
			t.Errorf("cnnc %s: exit %d, stderr %q; want 1 and %q", strings.Join(tc.args, " "), code, errs, tc.want)
		}
	}
	// A learning rate that blows up stops at the first non-finite loss.
	code, _, errs = cnnc(t, append(common, "--out", filepath.Join(dir, "nan"), "--lr", "1e30")...)
	if code != exitInput || !strings.Contains(errs, "at epoch 1, step ") || !strings.Contains(errs, "training stopped") {
		t.Errorf("--lr 1e30: exit %d, stderr %q", code, errs)
	}
}
