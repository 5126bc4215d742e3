package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
)

// IDX is the content of an idx file of unsigned bytes (LeCun's MNIST
// format): the dimensions, e.g. [60000 28 28], and the bytes in row-major
// order.
type IDX struct {
	Dims []int
	Data []uint8
}

// MaxIDXBytes bounds the data of one idx file (8 GiB), so that a corrupt
// header cannot ask for an absurd amount of memory.
const MaxIDXBytes = 8 << 30

// ReadIDX reads the idx file at path, gzip-compressed (detected by its
// magic bytes) or raw. Every error names the file.
func ReadIDX(path string) (*IDX, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	x, err := DecodeIDX(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return x, nil
}

// DecodeIDX reads an idx stream, gunzipping it first if it starts with the
// gzip magic bytes. It checks the magic number (0x00 0x00 0x08 ndims: only
// unsigned bytes), reads exactly prod(dims) bytes, and fails on a truncated
// stream, trailing bytes, or a broken gzip stream (including its checksum).
func DecodeIDX(r io.Reader) (*IDX, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	if magic, err := br.Peek(2); err == nil && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		zr.Multistream(false)
		x, err := decodeIDX(zr, true)
		if err != nil {
			return nil, err
		}
		// Only gzip's own padding may follow the stream.
		if rest, _ := io.ReadAll(io.LimitReader(br, 1<<20)); len(bytes.Trim(rest, "\x00")) != 0 {
			return nil, fmt.Errorf("%d bytes after the gzip stream", len(rest))
		}
		return x, nil
	}
	return decodeIDX(br, false)
}

func decodeIDX(r io.Reader, gz bool) (*IDX, error) {
	var magic [4]byte
	if n, err := io.ReadFull(r, magic[:]); err != nil {
		if n == 0 && err == io.EOF {
			return nil, errors.New("empty file, want an idx header")
		}
		return nil, fmt.Errorf("truncated idx header: %w", err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, fmt.Errorf("bad magic number 0x%02x%02x%02x%02x: not an idx file (want 0x0000 08 <ndims>)", magic[0], magic[1], magic[2], magic[3])
	}
	if magic[2] != 0x08 {
		return nil, fmt.Errorf("idx element type 0x%02x (%s) is not supported: cnnc reads unsigned-byte idx files (0x08)", magic[2], idxTypeName(magic[2]))
	}
	nd := int(magic[3])
	if nd < 1 || nd > 4 {
		return nil, fmt.Errorf("idx file has %d dimensions, cnnc reads 1 to 4", nd)
	}
	hdr := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("truncated idx header (%d dimensions): %w", nd, err)
	}
	x := &IDX{Dims: make([]int, nd)}
	size := uint64(1)
	for i := range x.Dims {
		d := binary.BigEndian.Uint32(hdr[4*i:])
		x.Dims[i] = int(d)
		hi, lo := bits.Mul64(size, uint64(d))
		if hi != 0 || lo > MaxIDXBytes {
			return nil, fmt.Errorf("idx dimensions %v exceed %d bytes", x.Dims[:i+1], MaxIDXBytes)
		}
		size = lo
	}
	// ReadAll grows its buffer as data arrives: a lying header costs no
	// more memory than the data that is really there.
	data, err := io.ReadAll(io.LimitReader(r, int64(size)+1))
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && gz:
		return nil, fmt.Errorf("truncated gzip stream: dimensions %v need %d data bytes, stream breaks off after %d", x.Dims, size, len(data))
	case err != nil && gz:
		return nil, fmt.Errorf("broken gzip stream: %w", err)
	case err != nil:
		return nil, err
	}
	if uint64(len(data)) < size {
		return nil, fmt.Errorf("truncated: dimensions %v need %d data bytes, found %d", x.Dims, size, len(data))
	}
	if uint64(len(data)) > size {
		return nil, fmt.Errorf("bytes after the data: dimensions %v need %d data bytes, file has more", x.Dims, size)
	}
	x.Data = data
	return x, nil
}

func idxTypeName(t byte) string {
	switch t {
	case 0x09:
		return "signed byte"
	case 0x0b:
		return "short"
	case 0x0c:
		return "int"
	case 0x0d:
		return "float"
	case 0x0e:
		return "double"
	}
	return "unknown"
}
