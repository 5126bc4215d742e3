package runtime

import (
	"github.com/cnnc-dev/cnnc/runtime/gemm"
	"gonum.org/v1/gonum/blas"
)

// The filter gradient: BackwardFilter in its three ways (filterPlain,
// filterPacked, filterRows: see conv.go), its job type (filterJob: one
// item per accumulator), the scratch layout (filterWork, filterAcc) and
// the sum of the accumulators into dw and db.

// BackwardFilter: x is (N,C,H,W), dy is (N,K,OH,OW), dw is (K,C/G,KH,KW),
// db is (K) or nil. dw += sum over images of dy col^T (gemm), db += sum of dy.
// Each worker accumulates into its own slice of scratch; the caller's
// goroutine adds them into dw and db at the end.
func (c Conv) BackwardFilter(n int, x, dy, dw, db, scratch []float32) {
	c.mustValid("BackwardFilter")
	check("Conv.BackwardFilter", "x", x, n*c.inSize())
	check("Conv.BackwardFilter", "dy", dy, n*c.outSize())
	check("Conv.BackwardFilter", "dw", dw, c.wSize())
	if db != nil {
		check("Conv.BackwardFilter", "db", db, c.K)
	}
	if c.depthwise() {
		c.dwRun(dwFilter, n, x, dw, db, dy)
		return
	}
	mode := c.mode()
	c.launchFilter(mode, n, x, dy, dw, db, scratch, c.perFilter(mode))
}

// filterJob is the parallel body of BackwardFilter: item i is accumulator
// i, which takes images i, i+slots, i+2*slots... (dw and db themselves for
// item 0, but with filterRows).
type filterJob struct {
	c       Conv
	kind    int // filterPlain, filterPacked or filterRows
	work    int // floats of a share in front of its accumulator
	n       int // images
	slots   int // accumulators, one per item of parallelFor
	per     int
	x, dy   []float32
	dw, db  []float32
	scratch []float32
}

var filterJobs freeList[filterJob]

// launchFilter runs BackwardFilter on the workers, one accumulator each
// (per floats of scratch, the work area then the accumulator), and adds
// the accumulators into dw and db.
func (c Conv) launchFilter(mode, n int, x, dy, dw, db, scratch []float32, per int) {
	if n == 0 {
		return
	}
	slots := convSlots(n, n, per, scratch, n*c.MACs())
	j := filterJobs.get()
	// Slot 0 accumulates into dw and db (but with filterRows), the
	// others into scratch.
	first, work, acc := 1, c.filterWork(mode), c.filterAcc(mode)
	kind := c.filterKind(mode)
	rows := kind == filterRows
	if rows {
		first = 0
	}
	for s := first; s < slots; s++ {
		clear(scratch[s*per+work : s*per+work+acc])
	}
	// Image i goes to accumulator i % slots, whichever goroutine runs
	// it, and the accumulators are summed in a fixed order: the same
	// inputs give the same bits however the workers are scheduled.
	*j = filterJob{c: c, kind: kind, work: work, n: n, slots: slots, per: per, x: x, dy: dy, dw: dw, db: db, scratch: scratch}
	parallelFor(slots, slots, j)
	if rows {
		// The transposed accumulators summed into the first,
		// then added once into dw.
		a0 := scratch[work : work+acc]
		for s := 1; s < slots; s++ {
			axpy(a0, scratch[s*per+work:s*per+work+acc])
		}
		c.addTransposed(dw, db, a0)
		first = slots
	}
	for s := first; s < slots; s++ {
		a := scratch[s*per+work : s*per+work+acc]
		axpy(dw, a[:c.wSize()])
		if db != nil {
			axpy(db, a[acc-c.K:])
		}
	}
	*j = filterJob{}
	filterJobs.put(j)
}

// run ignores the slot: item i is accumulator i, whose share of scratch
// it uses.
func (j *filterJob) run(_, i int) {
	c := &j.c
	// Item i is accumulator i: images i, i+slots, i+2*slots...
	sc := j.scratch[i*j.per : (i+1)*j.per]
	dw, db := j.dw, j.db
	if i > 0 || j.kind == filterRows {
		acc := sc[j.work:]
		dw = acc[:len(acc)-c.K]
		if db != nil {
			db = acc[len(acc)-c.K:]
		}
	}
	for img := i; img < j.n; img += j.slots {
		x, dy := j.x[img*c.inSize():(img+1)*c.inSize()], j.dy[img*c.outSize():(img+1)*c.outSize()]
		switch j.kind {
		case filterRows:
			c.filterImageRows(x, dy, dw, db, sc[:j.work])
		case filterPacked:
			c.filterImagePacked(x, dy, dw, db, sc[:j.work])
		default:
			c.filterImage(x, dy, dw, db, sc[:j.work])
		}
	}
}

// filterWork returns the per-worker floats of BackwardFilter in front of
// its accumulator: an im2col block (filterPlain); a ring of 16 im2col rows
// and then the packed dy block (A) and packed colᵀ block (B)
// (filterPacked), or dyᵀ (filterRows).
func (c Conv) filterWork(mode int) int {
	nc := c.blockRows() * c.OW
	p := gemm.Packed()
	switch c.filterKind(mode) {
	case filterPacked:
		return 16*nc + p.ASize(c.K/c.G, nc) + p.BSize(nc, c.colRows())
	case filterRows:
		return 16*nc + nc*(c.K/c.G) + 16
	}
	return c.colSize()
}

// filterAcc returns the floats of one worker's accumulator: dw and db, or
// with filterRows dwᵀ (per group, C/G*KH*KW rows rounded up to 8, by K/G)
// and db.
func (c Conv) filterAcc(mode int) int {
	if c.filterKind(mode) == filterRows {
		return c.G*(c.colRows()+7)/8*8*(c.K/c.G) + c.K
	}
	return c.wSize() + c.K
}

// perFilter returns the per-worker scratch of the filter pass: the work
// area and an accumulator.
func (c Conv) perFilter(mode int) int { return c.filterWork(mode) + c.filterAcc(mode) }

// filterImage: x is (C,H,W), dy is (K,OH,OW); dw += dy col^T, db += rowsum(dy).
func (c *Conv) filterImage(x, dy, dw, db, col []float32) {
	cg, kg, rows, ohw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW
	if c.is1x1() {
		for g := 0; g < c.G; g++ {
			gemm.Sgemm(blas.NoTrans, blas.Trans, kg, rows, ohw, 1, dy[g*kg*ohw:(g+1)*kg*ohw], ohw,
				x[g*cg*ohw:(g+1)*cg*ohw], ohw, 1, dw[g*kg*rows:(g+1)*kg*rows], rows)
		}
	} else {
		bh := c.blockRows()
		for oh0 := 0; oh0 < c.OH; oh0 += bh {
			oh1 := min(oh0+bh, c.OH)
			nc := (oh1 - oh0) * c.OW
			for g := 0; g < c.G; g++ {
				c.im2col(x, g*cg, oh0, oh1, col)
				gemm.Sgemm(blas.NoTrans, blas.Trans, kg, rows, nc, 1, dy[g*kg*ohw+oh0*c.OW:], ohw,
					col, nc, 1, dw[g*kg*rows:(g+1)*kg*rows], rows)
			}
		}
	}
	if db != nil {
		for k := 0; k < c.K; k++ {
			db[k] += sum32(dy[k*ohw : (k+1)*ohw])
		}
	}
}

// filterImagePacked is filterImage with the product formed from packed
// operands: per block, dy packed as A, and the im2col rows made eight at a
// time in a ring (in L1) and transposed into the packed B (colᵀ).
func (c *Conv) filterImagePacked(x, dy, dw, db, sc []float32) {
	p := gemm.Packed()
	cg, kg, rows, ohw, hw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW, c.H*c.W
	bh := c.blockRows()
	ncMax := bh * c.OW
	ring := sc[:16*ncMax]
	ap := sc[16*ncMax : 16*ncMax+p.ASize(kg, ncMax)]
	bp := sc[16*ncMax+len(ap):]
	for oh0 := 0; oh0 < c.OH; oh0 += bh {
		oh1 := min(oh0+bh, c.OH)
		nc := (oh1 - oh0) * c.OW
		for g := 0; g < c.G; g++ {
			p.PackA(blas.NoTrans, kg, nc, dy[g*kg*ohw+oh0*c.OW:], ohw, ap)
			for q0 := 0; q0 < rows; q0 += 8 {
				c.im2colRing(x[g*cg*hw:], ring, q0, nc, oh0, oh1, false)
				p.PackBCols(nc, rows, q0, ring[q0%16*nc:], nc, bp)
			}
			p.Mul(kg, rows, nc, ap, bp, 1, dw[g*kg*rows:], rows)
		}
	}
	if db != nil {
		for k := 0; k < c.K; k++ {
			db[k] += sum32(dy[k*ohw : (k+1)*ohw])
		}
	}
}

// filterImageRows is filterImage with filterRows: dwT (per group, rows
// rounded up to 8, by K/G) += col dyᵀ, and db += the row sums of dy (in
// the product with onesRow).
func (c *Conv) filterImageRows(x, dy, dwT, db, sc []float32) {
	cg, kg, rows, ohw, hw := c.C/c.G, c.K/c.G, c.colRows(), c.OH*c.OW, c.H*c.W
	bh := c.blockRows()
	ncMax := bh * c.OW
	ring, dyT := sc[:16*ncMax], sc[16*ncMax:]
	rp := (rows + 7) / 8 * 8
	ones := db != nil && c.onesRow()
	for oh0 := 0; oh0 < c.OH; oh0 += bh {
		oh1 := min(oh0+bh, c.OH)
		nc := (oh1 - oh0) * c.OW
		for g := 0; g < c.G; g++ {
			gemm.Transpose(kg, nc, dy[g*kg*ohw+oh0*c.OW:], ohw, dyT, kg)
			for q0 := 0; q0 < rows; q0 += 8 {
				c.im2colRing(x[g*cg*hw:], ring, q0, nc, oh0, oh1, ones)
				gemm.MulRows(8, kg, nc, ring[q0%16*nc:], nc, dyT, kg, 1, dwT[(g*rp+q0)*kg:], kg)
			}
		}
	}
	if db != nil && !ones {
		for k := 0; k < c.K; k++ {
			db[k] += sum32(dy[k*ohw : (k+1)*ohw])
		}
	}
}

// onesRow reports whether filterRows computes db in the product, as the
// first padding row of dwᵀ (the rows of the column matrix are not a
// multiple of 8).
func (c *Conv) onesRow() bool { return c.colRows()%8 != 0 }

// addTransposed adds a filterRows accumulator (per group, dwᵀ with rows
// rounded up to 8, then db) into dw (K, C/G*KH*KW) and db. When the rows
// are not a multiple of 8, the first padding row of dwᵀ holds db: its
// im2col row is all ones (onesRow).
func (c *Conv) addTransposed(dw, db, acc []float32) {
	kg, rows := c.K/c.G, c.colRows()
	rp := (rows + 7) / 8 * 8
	for g := 0; g < c.G; g++ {
		a := acc[g*rp*kg:]
		d := dw[g*kg*rows : (g+1)*kg*rows]
		// Eight rows of dwᵀ at a time: eight sequential reads, eight
		// adjacent floats written per k.
		for q0 := 0; q0 < rows; q0 += 8 {
			q1 := min(q0+8, rows)
			for k := 0; k < kg; k++ {
				dk := d[k*rows+q0 : k*rows+q1]
				for i := range dk {
					dk[i] += a[(q0+i)*kg+k]
				}
			}
		}
		if db != nil && c.onesRow() {
			for k := 0; k < kg; k++ {
				db[g*kg+k] += a[rows*kg+k]
			}
		}
	}
	if db != nil && !c.onesRow() {
		axpy(db, acc[len(acc)-c.K:])
	}
}

// sum32 returns the sum of s with four independent accumulators.
func sum32(s []float32) float32 {
	var a0, a1, a2, a3 float32
	i := 0
	for ; i+4 <= len(s); i += 4 {
		q := s[i : i+4 : i+4]
		a0 += q[0]
		a1 += q[1]
		a2 += q[2]
		a3 += q[3]
	}
	for ; i < len(s); i++ {
		a0 += s[i]
	}
	return (a0 + a1) + (a2 + a3)
}

// axpy: dst += src. (Also used by concat, fc and lrn.)
func axpy(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}
