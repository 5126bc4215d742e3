package runtime

import (
	"github.com/cnnc-dev/cnnc/runtime/gemm"
	"gonum.org/v1/gonum/blas"
)

// FC is a fully connected layer (nn.Linear): y = x W^T + b with W (Out, In)
// and b (Out); ReLU fuses a ReLU after the bias (the backward kernels then
// expect dy already masked by ReLUBackward). x may be any (N, ...) tensor
// with In elements per image.
type FC struct {
	In, Out int
	ReLU    bool
}

func (f FC) checkBufs(op string, n int, x, w, b, y []float32) {
	check(op, "x", x, n*f.In)
	check(op, "w", w, f.In*f.Out)
	if b != nil {
		check(op, "b", b, f.Out)
	}
	check(op, "y", y, n*f.Out)
}

// ForwardRef: x is (N,In), w is (Out,In), b is (Out) or nil, y is (N,Out).
func (f FC) ForwardRef(n int, x, w, b, y []float32) {
	f.checkBufs("FC.ForwardRef", n, x, w, b, y)
	for i := 0; i < n; i++ {
		for o := 0; o < f.Out; o++ {
			var s float64
			if b != nil {
				s = float64(b[o])
			}
			for k := 0; k < f.In; k++ {
				s += float64(x[i*f.In+k]) * float64(w[o*f.In+k])
			}
			if f.ReLU && s < 0 {
				s = 0
			}
			y[i*f.Out+o] = float32(s)
		}
	}
}

// BackwardDataRef: dy is (N,Out), w is (Out,In), dx is (N,In); dx += dy W.
func (f FC) BackwardDataRef(n int, dy, w, dx []float32) {
	f.checkBufs("FC.BackwardDataRef", n, dx, w, nil, dy)
	for i := 0; i < n; i++ {
		for k := 0; k < f.In; k++ {
			var s float64
			for o := 0; o < f.Out; o++ {
				s += float64(dy[i*f.Out+o]) * float64(w[o*f.In+k])
			}
			dx[i*f.In+k] += float32(s)
		}
	}
}

// BackwardFilterRef: x is (N,In), dy is (N,Out), dw is (Out,In), db is
// (Out) or nil; dw += dy^T x, db += sum over the batch of dy.
func (f FC) BackwardFilterRef(n int, x, dy, dw, db []float32) {
	f.checkBufs("FC.BackwardFilterRef", n, x, dw, db, dy)
	for o := 0; o < f.Out; o++ {
		for k := 0; k < f.In; k++ {
			var s float64
			for i := 0; i < n; i++ {
				s += float64(dy[i*f.Out+o]) * float64(x[i*f.In+k])
			}
			dw[o*f.In+k] += float32(s)
		}
		if db != nil {
			var s float64
			for i := 0; i < n; i++ {
				s += float64(dy[i*f.Out+o])
			}
			db[o] += float32(s)
		}
	}
}

// fcVectorMax is the largest weight matrix (floats) whose forward runs as
// matrix-vector products at every batch size: it stays in the L2 cache
// from one image to the next (LeNet-5's), and an image's outputs do not
// depend on the batch it comes in. A larger one runs them for one image
// only.
const fcVectorMax = 1 << 18

// Forward is the gemm twin of ForwardRef. One image (serving, batch 1), or
// every image of a small layer, is a matrix-vector product that reads each
// weight row in place (forwardVector), where the general product would
// pack (transpose) all the weights first: AlexNet's fc layers are 232 MB of
// them.
func (f FC) Forward(n int, x, w, b, y []float32) {
	f.checkBufs("FC.Forward", n, x, w, b, y)
	if n == 0 {
		return
	}
	if hasAVX2 && f.In >= 8 && (n == 1 || f.In*f.Out <= fcVectorMax) {
		for i := range n {
			f.forwardVector(x[i*f.In:(i+1)*f.In], w, b, y[i*f.Out:(i+1)*f.Out])
		}
		return
	}
	gemm.Sgemm(blas.NoTrans, blas.Trans, n, f.Out, f.In, 1, x, f.In, w, f.In, 0, y, f.Out)
	if b == nil && !f.ReLU {
		return
	}
	for i := 0; i < n; i++ {
		row := y[i*f.Out : (i+1)*f.Out]
		for o := range row {
			v := row[o]
			if b != nil {
				v += b[o]
			}
			if f.ReLU {
				v = max(v, 0)
			}
			row[o] = v
		}
	}
}

// BackwardData is the gemm twin of BackwardDataRef.
func (f FC) BackwardData(n int, dy, w, dx []float32) {
	f.checkBufs("FC.BackwardData", n, dx, w, nil, dy)
	if n == 0 {
		return
	}
	gemm.Sgemm(blas.NoTrans, blas.NoTrans, n, f.In, f.Out, 1, dy, f.Out, w, f.In, 1, dx, f.In)
}

// BackwardFilter is the gemm twin of BackwardFilterRef.
func (f FC) BackwardFilter(n int, x, dy, dw, db []float32) {
	f.checkBufs("FC.BackwardFilter", n, x, dw, db, dy)
	if n == 0 {
		return
	}
	gemm.Sgemm(blas.Trans, blas.NoTrans, f.Out, f.In, n, 1, dy, f.Out, x, f.In, 1, dw, f.In)
	if db != nil {
		for i := 0; i < n; i++ {
			axpy(db, dy[i*f.Out:(i+1)*f.Out])
		}
	}
}

// fcRows is the rows of W one item of forwardVector takes.
const fcRows = 64

// fcJob is forwardVector's parallel body: item i is the rows [i*fcRows,
// (i+1)*fcRows) of W.
type fcJob struct {
	f          FC
	x, w, b, y []float32
}

var fcJobs freeList[fcJob]

// forwardVector is Forward for one image: y = W x + b (then the ReLU),
// rows split among the workers from 2M multiply-adds (convParallelMACs).
func (f FC) forwardVector(x, w, b, y []float32) {
	items := (f.Out + fcRows - 1) / fcRows
	slots := items
	if f.In*f.Out < convParallelMACs {
		slots = 1
	}
	j := fcJobs.get()
	*j = fcJob{f: f, x: x, w: w, b: b, y: y}
	parallelFor(items, slots, j)
	*j = fcJob{}
	fcJobs.put(j)
}

func (j *fcJob) run(_, i int) {
	f, in := &j.f, j.f.In
	k8 := in / 8 * 8
	r1 := min(f.Out, (i+1)*fcRows)
	var d [4]float32
	for r := i * fcRows; r < r1; r += 4 {
		rows := min(4, r1-r)
		if rows == 4 {
			dot4AVX2(k8, &j.w[r*in], in, &j.x[0], &d[0])
		} else {
			d = [4]float32{}
			for q := range rows {
				wr := j.w[(r+q)*in : (r+q)*in+k8]
				for c, v := range wr {
					d[q] += v * j.x[c]
				}
			}
		}
		for q := range rows {
			v := d[q]
			for c := k8; c < in; c++ {
				v += j.w[(r+q)*in+c] * j.x[c]
			}
			if j.b != nil {
				v += j.b[r+q]
			}
			if f.ReLU {
				v = max(v, 0)
			}
			j.y[r+q] = v
		}
	}
}
