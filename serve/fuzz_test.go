package serve

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"testing"

	"github.com/cnnc-dev/cnnc/runtime/data"
	"github.com/cnnc-dev/cnnc/runtime/npy"
)

// fuzzInput is a small network's input: 1 channel of 4x3, at most 2
// images per request.
var fuzzInput = input{shape: data.Shape{C: 1, H: 4, W: 3}, maxBatch: 2, norm: data.MNISTNorm}

// checkDecoded fails t unless a decoder's answer is a clear request error
// or k whole, finite images.
func checkDecoded(t *testing.T, in input, x []float32, k int, err error) {
	if err != nil {
		if re, ok := asRequestError(err); !ok || re.status < 400 || re.status > 499 || re.msg == "" {
			t.Fatalf("error %v is not a 4xx request error", err)
		}
		return
	}
	if k < 1 || k > in.maxBatch || len(x) != k*in.shape.Size() {
		t.Fatalf("%d images in %d floats", k, len(x))
	}
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("non-finite value %v accepted", v)
		}
	}
}

// FuzzDecode feeds any bytes to the four request decoders (the first byte
// picks one): none may panic, and each answers a 4xx or whole images.
func FuzzDecode(f *testing.F) {
	x := make([]float32, 12)
	for i := range x {
		x[i] = float32(i) - 5.5
	}
	one, _ := json.Marshal(map[string][]float32{"input": x})
	two, _ := json.Marshal(map[string][][]float32{"inputs": {x, x}})
	var np bytes.Buffer
	npy.Write(&np, &npy.Array{Shape: []int{2, 1, 4, 3}, Data: append(x, x...)})
	g := image.NewGray(image.Rect(0, 0, 3, 4))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 20)
	}
	var pngBody, jpegBody, rgbBody bytes.Buffer
	png.Encode(&pngBody, g)
	jpeg.Encode(&jpegBody, g, nil)
	rgb := image.NewRGBA(image.Rect(0, 0, 7, 2))
	rgb.Set(1, 1, color.RGBA{200, 10, 10, 128})
	png.Encode(&rgbBody, rgb)
	const decJSON, decRaw, decNPY, decImage, decPad, decResize = 0, 1, 2, 3, 4, 5
	for _, s := range [][]byte{
		append([]byte{decJSON}, one...),
		append([]byte{decJSON}, two...),
		append([]byte{decJSON}, `{"inputs": [[1e39]]}`...),
		append([]byte{decJSON}, `{"input": null}`...),
		append([]byte{decRaw}, rawBody(x)...),
		append([]byte{decRaw}, rawBody(append(x, x...))...),
		append([]byte{decNPY}, np.Bytes()...),
		append([]byte{decImage}, pngBody.Bytes()...),
		append([]byte{decPad}, pngBody.Bytes()...),
		append([]byte{decResize}, jpegBody.Bytes()...),
		append([]byte{decImage}, rgbBody.Bytes()...),
		append([]byte{decPad}, rgbBody.Bytes()...),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		in, body := fuzzInput, b[1:]
		var x []float32
		var k int
		var err error
		switch b[0] % 6 {
		case decJSON:
			x, k, err = in.decodeJSON(body)
		case decRaw:
			x, k, err = in.decodeRaw(body)
		case decNPY:
			x, k, err = in.decodeNPY(body)
		case decImage:
			x, k, err = in.decodeImage(body, "")
		case decPad:
			x, k, err = in.decodeImage(body, FitPad)
		case decResize:
			x, k, err = in.decodeImage(body, FitResize)
		}
		checkDecoded(t, in, x, k, err)
	})
}
