//go:build !purego

package runtime

// winoBTFMA and winoATFMA are winoBTGo and winoATGo with n a multiple of 8,
// in conv_winograd_amd64.s.
//
//go:noescape
func winoBTFMA(in *float32, offs *[6]int, out *float32, outs int, n int)

//go:noescape
func winoATFMA(in *float32, offs *[6]int, out *float32, outs int, n int)

// winoDeint and winoInt are winoDeintGo and winoIntGo for n a multiple of
// 8, in conv_winograd_amd64.s; idx is winoDeintIdx and winoIntIdx.
//
//go:noescape
func winoDeint(src *float32, n int, dst *float32, lds int, idx *int32)

//go:noescape
func winoInt(src *float32, lds int, n int, dst *float32, idx *int32)
