package safetensors

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// diskFull accepts n bytes and then fails like a full disk.
type diskFull struct {
	w io.Writer
	n int
}

func (d *diskFull) Write(p []byte) (int, error) {
	if len(p) > d.n {
		k, _ := d.w.Write(p[:d.n])
		d.n = 0
		return k, syscall.ENOSPC
	}
	d.n -= len(p)
	return d.w.Write(p)
}

// only returns the names in dir.
func only(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ckpt.safetensors")
	old := []byte("old contents")
	if err := os.WriteFile(p, old, 0o600); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("new data ", 50_000) // larger than the write buffer
	check := func(what string, err error, want error) {
		t.Helper()
		if err == nil || !errors.Is(err, want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want %v naming %s", what, err, want, p)
		}
		if b, _ := os.ReadFile(p); string(b) != string(old) {
			t.Errorf("%s: old file changed to %.20q...", what, b)
		}
		if names := only(t, dir); len(names) != 1 {
			t.Errorf("%s: temporary file left behind: %v", what, names)
		}
	}

	// The writer fails in the middle, after some data went out.
	boom := errors.New("boom")
	err := WriteFileAtomic(p, func(w io.Writer) error {
		io.WriteString(w, big)
		return boom
	})
	check("error from write", err, boom)

	// The disk fills up: in the middle of the data, and at the final flush.
	for _, limit := range []int{0, 100_000, len(big) - 1} {
		err = writeFileAtomic(p, func(w io.Writer) error {
			_, err := io.WriteString(w, big)
			return err
		}, func(w io.Writer) io.Writer { return &diskFull{w, limit} })
		check(fmt.Sprintf("ENOSPC after %d bytes", limit), err, syscall.ENOSPC)
		if err != nil && !strings.Contains(err.Error(), "no space left on device") {
			t.Errorf("ENOSPC message %q", err)
		}
	}

	// A panic in write removes the temporary file too.
	func() {
		defer func() { recover() }()
		WriteFileAtomic(p, func(w io.Writer) error { panic("writer panicked") })
	}()
	if b, _ := os.ReadFile(p); string(b) != string(old) {
		t.Errorf("panic: old file changed")
	}
	if names := only(t, dir); len(names) != 1 {
		t.Errorf("panic: temporary file left behind: %v", names)
	}

	// Success replaces the file and keeps its mode.
	if err := WriteFileAtomic(p, func(w io.Writer) error {
		_, err := io.WriteString(w, big)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != big || st.Mode().Perm() != 0o600 {
		t.Errorf("after success: %d bytes, mode %v", len(b), st.Mode())
	}
	if names := only(t, dir); len(names) != 1 {
		t.Errorf("temporary file left behind: %v", names)
	}

	// A new file gets 0644; a missing directory or a directory target is an error.
	q := filepath.Join(dir, "new")
	if err := WriteFileAtomic(q, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(q); st.Mode().Perm() != 0o644 {
		t.Errorf("new file mode %v", st.Mode())
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such"), func(w io.Writer) error { return nil }); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
	if err := WriteFileAtomic(dir, func(w io.Writer) error { return nil }); err == nil {
		t.Error("writing over a directory succeeded")
	}
}

// TestSaveDiskFull checks Save end to end on a failing disk.
func TestSaveDiskFull(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.safetensors")
	ts := []Tensor{{Name: "w", Shape: []int{100_000}, Data: make([]float32, 100_000)}}
	if err := Save(p, ts[:0], map[string]string{"v": "old"}); err != nil {
		t.Fatal(err)
	}
	err := writeFileAtomic(p, func(w io.Writer) error { return Encode(w, ts, nil) },
		func(w io.Writer) io.Writer { return &diskFull{w, 200_000} })
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("err = %v", err)
	}
	f, err := Load(p)
	if err != nil || f.Meta["v"] != "old" || len(f.Names()) != 0 {
		t.Fatalf("old checkpoint damaged: %v %v", f, err)
	}
	// Save refuses bad tensors before touching the file.
	if err := Save(p, []Tensor{{Name: "w", Shape: []int{2}}}, nil); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("Save of a bad tensor: %v", err)
	}
	if names := only(t, dir); len(names) != 1 {
		t.Errorf("temporary file left behind: %v", names)
	}
}
