package serve

// The request decoders: a body (already bounded by http.MaxBytesReader) to
// k images of the network's input, float32 NCHW. Every failure is a
// *requestError with the HTTP status it answers.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders registered for image.Decode
	_ "image/png"
	"math"
	"net/http"

	"golang.org/x/image/draw"

	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// MaxImagePixels bounds the width times height of an uploaded image, read
// from its header before anything is decoded: a small file can announce a
// huge image.
const MaxImagePixels = 4096 * 4096

// requestError is a bad request: its status (4xx) and a message for the
// client.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(status int, format string, a ...any) error {
	return &requestError{status: status, msg: fmt.Sprintf(format, a...)}
}

// input is what the decoders need to know of the network.
type input struct {
	shape    data.Shape // C, H, W of one image
	maxBatch int        // images one request may carry
	norm     data.Normalize
}

// images checks that x holds 1..maxBatch images and returns their count.
func (in input) images(x []float32, what string) (int, error) {
	size := in.shape.Size()
	if len(x) == 0 || len(x)%size != 0 {
		return 0, badRequest(http.StatusUnprocessableEntity, "%s: %d floats, want a positive multiple of %d (C*H*W for %s)", what, len(x), size, in.shape)
	}
	k := len(x) / size
	if k > in.maxBatch {
		return 0, badRequest(http.StatusUnprocessableEntity, "%s: %d images, at most %d per request (the server's batch)", what, k, in.maxBatch)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, badRequest(http.StatusUnprocessableEntity, "%s: value %d is %v, want finite numbers", what, i, v)
		}
	}
	return k, nil
}

// jsonBody is the JSON form of a tensor request: one image, or several.
type jsonBody struct {
	Input  []float32   `json:"input"`  // one image, C*H*W floats in NCHW order
	Inputs [][]float32 `json:"inputs"` // several images, each C*H*W floats
}

// decodeJSON reads {"input": [...]} or {"inputs": [[...], ...]}.
func (in input) decodeJSON(body []byte) ([]float32, int, error) {
	var b jsonBody
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&b); err != nil {
		return nil, 0, badRequest(http.StatusBadRequest, "JSON body: %v (want {\"input\": [C*H*W floats]} or {\"inputs\": [[...], ...]})", err)
	}
	if d.More() {
		return nil, 0, badRequest(http.StatusBadRequest, "JSON body: data after the object")
	}
	if (b.Input == nil) == (b.Inputs == nil) {
		return nil, 0, badRequest(http.StatusBadRequest, "JSON body: give exactly one of \"input\" and \"inputs\"")
	}
	x := b.Input
	if b.Inputs != nil {
		if len(b.Inputs) > in.maxBatch {
			return nil, 0, badRequest(http.StatusUnprocessableEntity, "inputs: %d images, at most %d per request (the server's batch)", len(b.Inputs), in.maxBatch)
		}
		size := in.shape.Size()
		x = make([]float32, 0, len(b.Inputs)*size)
		for i, row := range b.Inputs {
			if len(row) != size {
				return nil, 0, badRequest(http.StatusUnprocessableEntity, "inputs[%d]: %d floats, want %d (C*H*W for %s)", i, len(row), size, in.shape)
			}
			x = append(x, row...)
		}
	}
	k, err := in.images(x, "input")
	return x, k, err
}

// decodeRaw reads little-endian float32s, C*H*W per image, NCHW.
func (in input) decodeRaw(body []byte) ([]float32, int, error) {
	if len(body)%4 != 0 {
		return nil, 0, badRequest(http.StatusUnprocessableEntity, "raw body: %d bytes, not a whole number of float32s", len(body))
	}
	x := make([]float32, len(body)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(body[4*i:]))
	}
	k, err := in.images(x, "raw body")
	return x, k, err
}

// decodeNPY reads a .npy array of shape (N, C, H, W) or (C, H, W).
func (in input) decodeNPY(body []byte) ([]float32, int, error) {
	a, err := npy.Read(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, 0, badRequest(http.StatusBadRequest, "%v", err)
	}
	s, want := a.Shape, []int{in.shape.C, in.shape.H, in.shape.W}
	if len(s) == 4 {
		s = s[1:]
	}
	if len(s) != 3 || s[0] != want[0] || s[1] != want[1] || s[2] != want[2] {
		return nil, 0, badRequest(http.StatusUnprocessableEntity, "npy body: shape %v, want (N, %d, %d, %d) or (%d, %d, %d)", a.Shape, want[0], want[1], want[2], want[0], want[1], want[2])
	}
	k, err := in.images(a.Data, "npy body")
	return a.Data, k, err
}

// Fits of an image whose size differs from the network's input.
const (
	FitAuto   = "auto"   // pad when the image is no larger than the input both ways, else resize
	FitPad    = "pad"    // centre on a black canvas, as cnnc train does with MNIST for LeNet-5
	FitResize = "resize" // bilinear resize to the input's size (the aspect ratio is not kept)
)

// decodeImage reads a PNG or JPEG image as one image of the network's
// input: gray for C = 1 and RGB for C = 3 (as runtime/data's image folders),
// fitted to H x W as fit says, normalised as training normalises (data.New
// with the norm, then data.Dataset.PadTo for a padded image).
func (in input) decodeImage(body []byte, fit string) ([]float32, int, error) {
	s := in.shape
	if s.C != 1 && s.C != 3 {
		return nil, 0, badRequest(http.StatusUnprocessableEntity, "the network takes %d channels: images only feed networks of 1 (gray) or 3 (RGB)", s.C)
	}
	switch fit {
	case "":
		fit = FitAuto
	case FitAuto, FitPad, FitResize:
	default:
		return nil, 0, badRequest(http.StatusBadRequest, "fit=%q: want auto, pad or resize", fit)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
	if err != nil {
		return nil, 0, badRequest(http.StatusUnsupportedMediaType, "not a PNG or JPEG image: %v", err)
	}
	if cfg.Width < 1 || cfg.Height < 1 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, 0, badRequest(http.StatusUnprocessableEntity, "%s image of %dx%d (WxH): want 1 to %d pixels", format, cfg.Width, cfg.Height, MaxImagePixels)
	}
	if fit == FitPad && (cfg.Width > s.W || cfg.Height > s.H) {
		return nil, 0, badRequest(http.StatusUnprocessableEntity, "fit=pad: image is %dx%d (WxH), larger than the network's %dx%d", cfg.Width, cfg.Height, s.W, s.H)
	}
	img, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, 0, badRequest(http.StatusUnprocessableEntity, "%s image: %v", format, err)
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	pad := w != s.W || h != s.H
	if pad && (fit == FitResize || fit == FitAuto && (w > s.W || h > s.H)) {
		dst := image.NewRGBA(image.Rect(0, 0, s.W, s.H))
		draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img, b, w, h, pad = dst, dst.Bounds(), s.W, s.H, false
	}
	pix := data.AppendPixels(make([]uint8, 0, w*h*s.C), img, s.C)
	d, err := data.New(pix, true, data.Shape{C: s.C, H: h, W: w}, []uint8{0}, 1, in.norm)
	if err != nil {
		return nil, 0, err // the norm was checked at New: not the client's fault
	}
	if pad {
		if d, err = d.PadTo(s.H, s.W); err != nil {
			return nil, 0, err
		}
	}
	return d.X, 1, nil
}

// asRequestError reports whether err is the client's fault, and its status.
func asRequestError(err error) (*requestError, bool) {
	var re *requestError
	ok := errors.As(err, &re)
	return re, ok
}
