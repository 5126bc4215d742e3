package gemm

import (
	"gonum.org/v1/gonum/blas"
)

// Sgemmer computes C = alpha * op(A) * op(B) + beta * C with row-major
// matrices, exactly as gonum's blas.Float32Level3.Sgemm.
type Sgemmer interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

var impl Sgemmer = Implementation{}

// Use makes s the implementation behind Sgemm and returns the previous one.
// Use(gonum.Implementation{}) selects gonum's pure-Go code, Use(Implementation{})
// restores the default. Use is not safe to call concurrently with Sgemm.
func Use(s Sgemmer) Sgemmer {
	old := impl
	impl = s
	return old
}

// Sgemm calls the implementation chosen with Use.
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	impl.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
