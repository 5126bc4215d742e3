//go:build netlib

package gemm

import "gonum.org/v1/netlib/blas/netlib"

// Netlib is the cgo binding to a C BLAS (OpenBLAS here), available with
// -tags netlib: gemm.Use(gemm.Netlib{}). It needs cgo and a CBLAS library at
// link time, for example (Debian):
//
//	apt-get install -y libopenblas-dev
//	CGO_LDFLAGS="-lopenblas" go test -tags netlib ./runtime/gemm/
type Netlib = netlib.Implementation
