package safetensors

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// WriteFileAtomic replaces the file at path with what write writes, or
// leaves it untouched. write gets a buffered writer to a temporary file in
// the same directory; the temporary file is flushed, fsynced, closed and
// renamed over path, and then the directory is fsynced so that the rename
// survives a crash. On any error (from write, a full disk, ...) the
// temporary file is removed and the error names path. A new file gets mode
// 0644; a replaced file keeps its mode.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	return writeFileAtomic(path, write, nil)
}

// writeFileAtomic is WriteFileAtomic with a hook that wraps the file, so that
// tests can make the disk fail.
func writeFileAtomic(path string, write func(w io.Writer) error, wrap func(io.Writer) io.Writer) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("write %s: not a regular file", path)
		}
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		if !renamed { // an error, or a panic in write
			tmp.Close()
			os.Remove(tmpName)
		}
		if err != nil {
			err = fmt.Errorf("write %s: %w", path, err)
		}
	}()
	var w io.Writer = tmp
	if wrap != nil {
		w = wrap(w)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmpName, path); err != nil {
		return err
	}
	renamed = true
	return syncDir(dir)
}

// syncDir fsyncs a directory; file systems that cannot (EINVAL) are let be.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
