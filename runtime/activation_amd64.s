//go:build !purego

#include "textflag.h"

// expScalar's and sigmoids' loops (activation_math.go) on 8 floats at a
// time with AVX2, the same operations in the same order (no FMA): each
// constant is a vector of 8 copies.

DATA expLo<>+0(SB)/4, $0xc2ae0000
DATA expLo<>+4(SB)/4, $0xc2ae0000
DATA expLo<>+8(SB)/4, $0xc2ae0000
DATA expLo<>+12(SB)/4, $0xc2ae0000
DATA expLo<>+16(SB)/4, $0xc2ae0000
DATA expLo<>+20(SB)/4, $0xc2ae0000
DATA expLo<>+24(SB)/4, $0xc2ae0000
DATA expLo<>+28(SB)/4, $0xc2ae0000
GLOBL expLo<>(SB), RODATA|NOPTR, $32

DATA expLog2e<>+0(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+4(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+8(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+12(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+16(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+20(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+24(SB)/4, $0x3fb8aa3b
DATA expLog2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL expLog2e<>(SB), RODATA|NOPTR, $32

DATA expMagic<>+0(SB)/4, $0x4b400000
DATA expMagic<>+4(SB)/4, $0x4b400000
DATA expMagic<>+8(SB)/4, $0x4b400000
DATA expMagic<>+12(SB)/4, $0x4b400000
DATA expMagic<>+16(SB)/4, $0x4b400000
DATA expMagic<>+20(SB)/4, $0x4b400000
DATA expMagic<>+24(SB)/4, $0x4b400000
DATA expMagic<>+28(SB)/4, $0x4b400000
GLOBL expMagic<>(SB), RODATA|NOPTR, $32

DATA expC1<>+0(SB)/4, $0x3f318000
DATA expC1<>+4(SB)/4, $0x3f318000
DATA expC1<>+8(SB)/4, $0x3f318000
DATA expC1<>+12(SB)/4, $0x3f318000
DATA expC1<>+16(SB)/4, $0x3f318000
DATA expC1<>+20(SB)/4, $0x3f318000
DATA expC1<>+24(SB)/4, $0x3f318000
DATA expC1<>+28(SB)/4, $0x3f318000
GLOBL expC1<>(SB), RODATA|NOPTR, $32

DATA expC2<>+0(SB)/4, $0xb95e8083
DATA expC2<>+4(SB)/4, $0xb95e8083
DATA expC2<>+8(SB)/4, $0xb95e8083
DATA expC2<>+12(SB)/4, $0xb95e8083
DATA expC2<>+16(SB)/4, $0xb95e8083
DATA expC2<>+20(SB)/4, $0xb95e8083
DATA expC2<>+24(SB)/4, $0xb95e8083
DATA expC2<>+28(SB)/4, $0xb95e8083
GLOBL expC2<>(SB), RODATA|NOPTR, $32

DATA expP0<>+0(SB)/4, $0x39506967
DATA expP0<>+4(SB)/4, $0x39506967
DATA expP0<>+8(SB)/4, $0x39506967
DATA expP0<>+12(SB)/4, $0x39506967
DATA expP0<>+16(SB)/4, $0x39506967
DATA expP0<>+20(SB)/4, $0x39506967
DATA expP0<>+24(SB)/4, $0x39506967
DATA expP0<>+28(SB)/4, $0x39506967
GLOBL expP0<>(SB), RODATA|NOPTR, $32

DATA expP1<>+0(SB)/4, $0x3ab743ce
DATA expP1<>+4(SB)/4, $0x3ab743ce
DATA expP1<>+8(SB)/4, $0x3ab743ce
DATA expP1<>+12(SB)/4, $0x3ab743ce
DATA expP1<>+16(SB)/4, $0x3ab743ce
DATA expP1<>+20(SB)/4, $0x3ab743ce
DATA expP1<>+24(SB)/4, $0x3ab743ce
DATA expP1<>+28(SB)/4, $0x3ab743ce
GLOBL expP1<>(SB), RODATA|NOPTR, $32

DATA expP2<>+0(SB)/4, $0x3c088908
DATA expP2<>+4(SB)/4, $0x3c088908
DATA expP2<>+8(SB)/4, $0x3c088908
DATA expP2<>+12(SB)/4, $0x3c088908
DATA expP2<>+16(SB)/4, $0x3c088908
DATA expP2<>+20(SB)/4, $0x3c088908
DATA expP2<>+24(SB)/4, $0x3c088908
DATA expP2<>+28(SB)/4, $0x3c088908
GLOBL expP2<>(SB), RODATA|NOPTR, $32

DATA expP3<>+0(SB)/4, $0x3d2aa9c1
DATA expP3<>+4(SB)/4, $0x3d2aa9c1
DATA expP3<>+8(SB)/4, $0x3d2aa9c1
DATA expP3<>+12(SB)/4, $0x3d2aa9c1
DATA expP3<>+16(SB)/4, $0x3d2aa9c1
DATA expP3<>+20(SB)/4, $0x3d2aa9c1
DATA expP3<>+24(SB)/4, $0x3d2aa9c1
DATA expP3<>+28(SB)/4, $0x3d2aa9c1
GLOBL expP3<>(SB), RODATA|NOPTR, $32

DATA expP4<>+0(SB)/4, $0x3e2aaaaa
DATA expP4<>+4(SB)/4, $0x3e2aaaaa
DATA expP4<>+8(SB)/4, $0x3e2aaaaa
DATA expP4<>+12(SB)/4, $0x3e2aaaaa
DATA expP4<>+16(SB)/4, $0x3e2aaaaa
DATA expP4<>+20(SB)/4, $0x3e2aaaaa
DATA expP4<>+24(SB)/4, $0x3e2aaaaa
DATA expP4<>+28(SB)/4, $0x3e2aaaaa
GLOBL expP4<>(SB), RODATA|NOPTR, $32

DATA expP5<>+0(SB)/4, $0x3f000000
DATA expP5<>+4(SB)/4, $0x3f000000
DATA expP5<>+8(SB)/4, $0x3f000000
DATA expP5<>+12(SB)/4, $0x3f000000
DATA expP5<>+16(SB)/4, $0x3f000000
DATA expP5<>+20(SB)/4, $0x3f000000
DATA expP5<>+24(SB)/4, $0x3f000000
DATA expP5<>+28(SB)/4, $0x3f000000
GLOBL expP5<>(SB), RODATA|NOPTR, $32

DATA expOne<>+0(SB)/4, $0x3f800000
DATA expOne<>+4(SB)/4, $0x3f800000
DATA expOne<>+8(SB)/4, $0x3f800000
DATA expOne<>+12(SB)/4, $0x3f800000
DATA expOne<>+16(SB)/4, $0x3f800000
DATA expOne<>+20(SB)/4, $0x3f800000
DATA expOne<>+24(SB)/4, $0x3f800000
DATA expOne<>+28(SB)/4, $0x3f800000
GLOBL expOne<>(SB), RODATA|NOPTR, $32

DATA expBias<>+0(SB)/4, $127
DATA expBias<>+4(SB)/4, $127
DATA expBias<>+8(SB)/4, $127
DATA expBias<>+12(SB)/4, $127
DATA expBias<>+16(SB)/4, $127
DATA expBias<>+20(SB)/4, $127
DATA expBias<>+24(SB)/4, $127
DATA expBias<>+28(SB)/4, $127
GLOBL expBias<>(SB), RODATA|NOPTR, $32

DATA expSign<>+0(SB)/4, $0x80000000
DATA expSign<>+4(SB)/4, $0x80000000
DATA expSign<>+8(SB)/4, $0x80000000
DATA expSign<>+12(SB)/4, $0x80000000
DATA expSign<>+16(SB)/4, $0x80000000
DATA expSign<>+20(SB)/4, $0x80000000
DATA expSign<>+24(SB)/4, $0x80000000
DATA expSign<>+28(SB)/4, $0x80000000
GLOBL expSign<>(SB), RODATA|NOPTR, $32

// EXP_CONSTS loads the constants EXP8 reads into Y8-Y15.
#define EXP_CONSTS \
	VMOVUPS expLo<>(SB), Y8 \
	VMOVUPS expLog2e<>(SB), Y9 \
	VMOVUPS expMagic<>(SB), Y10 \
	VMOVUPS expC1<>(SB), Y11 \
	VMOVUPS expC2<>(SB), Y12 \
	VMOVUPS expP0<>(SB), Y13 \
	VMOVUPS expOne<>(SB), Y14 \
	VMOVUPS expBias<>(SB), Y15

// EXP8: Y3 = exp(Y0), with Y0, Y1, Y2, Y4 overwritten.
#define EXP8 \
	VMAXPS  Y0, Y8, Y0 \ // x = max(-87, x): the second source, x, when NaN
	VMULPS  Y9, Y0, Y1 \ // n = x*log2e
	VADDPS  Y10, Y1, Y1 \ // + magic: rounded to an integer
	VSUBPS  Y10, Y1, Y1 \ // - magic
	VMULPS  Y11, Y1, Y2 \
	VSUBPS  Y2, Y0, Y0 \ // r = x - n*c1
	VMULPS  Y12, Y1, Y2 \
	VSUBPS  Y2, Y0, Y0 \ // r -= n*c2
	VMULPS  Y0, Y13, Y3 \ // p = p0*r
	VADDPS  expP1<>(SB), Y3, Y3 \
	VMULPS  Y0, Y3, Y3 \
	VADDPS  expP2<>(SB), Y3, Y3 \
	VMULPS  Y0, Y3, Y3 \
	VADDPS  expP3<>(SB), Y3, Y3 \
	VMULPS  Y0, Y3, Y3 \
	VADDPS  expP4<>(SB), Y3, Y3 \
	VMULPS  Y0, Y3, Y3 \
	VADDPS  expP5<>(SB), Y3, Y3 \
	VMULPS  Y0, Y3, Y3 \ // p*r
	VMULPS  Y0, Y3, Y3 \ // *r
	VADDPS  Y0, Y3, Y3 \ // + r
	VADDPS  Y14, Y3, Y3 \ // + 1
	VCVTTPS2DQ Y1, Y4 \ // 2^n: (n + 127) << 23
	VPADDD  Y15, Y4, Y4 \
	VPSLLD  $23, Y4, Y4 \
	VMULPS  Y4, Y3, Y3

// func expNegAVX2(e []float32)
// e[k] = exp(e[k]) for len(e) a multiple of 8.
TEXT ·expNegAVX2(SB), NOSPLIT, $0-24
	MOVQ e_base+0(FP), SI
	MOVQ e_len+8(FP), CX
	SHRQ $3, CX
	JZ   expdone
	EXP_CONSTS

exploop:
	VMOVUPS (SI), Y0
	EXP8
	VMOVUPS Y3, (SI)
	ADDQ    $32, SI
	DECQ    CX
	JNZ     exploop
	VZEROUPPER

expdone:
	RET

// func sigmoidAVX2(x, s []float32)
// s[k] = sigmoid(x[k]) as sigmoids computes it, for len(x) a multiple of 8
// (len(s) >= len(x)).
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-48
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ s_base+24(FP), DI
	SHRQ $3, CX
	JZ   sigdone
	EXP_CONSTS

sigloop:
	VMOVUPS (SI), Y5
	VORPS   expSign<>(SB), Y5, Y0 // -|x|
	EXP8                          // e = exp(-|x|)
	VADDPS  Y14, Y3, Y6           // 1 + e
	VBLENDVPS Y5, Y3, Y14, Y7     // x's sign bit set: e, else 1
	VDIVPS  Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     sigloop
	VZEROUPPER

sigdone:
	RET

DATA actAbs<>+0(SB)/4, $0x7fffffff
DATA actAbs<>+4(SB)/4, $0x7fffffff
DATA actAbs<>+8(SB)/4, $0x7fffffff
DATA actAbs<>+12(SB)/4, $0x7fffffff
DATA actAbs<>+16(SB)/4, $0x7fffffff
DATA actAbs<>+20(SB)/4, $0x7fffffff
DATA actAbs<>+24(SB)/4, $0x7fffffff
DATA actAbs<>+28(SB)/4, $0x7fffffff
GLOBL actAbs<>(SB), RODATA|NOPTR, $32

DATA actM2<>+0(SB)/4, $0xc0000000
DATA actM2<>+4(SB)/4, $0xc0000000
DATA actM2<>+8(SB)/4, $0xc0000000
DATA actM2<>+12(SB)/4, $0xc0000000
DATA actM2<>+16(SB)/4, $0xc0000000
DATA actM2<>+20(SB)/4, $0xc0000000
DATA actM2<>+24(SB)/4, $0xc0000000
DATA actM2<>+28(SB)/4, $0xc0000000
GLOBL actM2<>(SB), RODATA|NOPTR, $32

DATA actHalf<>+0(SB)/4, $0x3f000000
DATA actHalf<>+4(SB)/4, $0x3f000000
DATA actHalf<>+8(SB)/4, $0x3f000000
DATA actHalf<>+12(SB)/4, $0x3f000000
DATA actHalf<>+16(SB)/4, $0x3f000000
DATA actHalf<>+20(SB)/4, $0x3f000000
DATA actHalf<>+24(SB)/4, $0x3f000000
DATA actHalf<>+28(SB)/4, $0x3f000000
GLOBL actHalf<>(SB), RODATA|NOPTR, $32

DATA actM05<>+0(SB)/4, $0xbf000000
DATA actM05<>+4(SB)/4, $0xbf000000
DATA actM05<>+8(SB)/4, $0xbf000000
DATA actM05<>+12(SB)/4, $0xbf000000
DATA actM05<>+16(SB)/4, $0xbf000000
DATA actM05<>+20(SB)/4, $0xbf000000
DATA actM05<>+24(SB)/4, $0xbf000000
DATA actM05<>+28(SB)/4, $0xbf000000
GLOBL actM05<>(SB), RODATA|NOPTR, $32

DATA tanhQ0<>+0(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+4(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+8(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+12(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+16(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+20(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+24(SB)/4, $0xbbbaf0ea
DATA tanhQ0<>+28(SB)/4, $0xbbbaf0ea
GLOBL tanhQ0<>(SB), RODATA|NOPTR, $32

DATA tanhQ1<>+0(SB)/4, $0x3ca9134e
DATA tanhQ1<>+4(SB)/4, $0x3ca9134e
DATA tanhQ1<>+8(SB)/4, $0x3ca9134e
DATA tanhQ1<>+12(SB)/4, $0x3ca9134e
DATA tanhQ1<>+16(SB)/4, $0x3ca9134e
DATA tanhQ1<>+20(SB)/4, $0x3ca9134e
DATA tanhQ1<>+24(SB)/4, $0x3ca9134e
DATA tanhQ1<>+28(SB)/4, $0x3ca9134e
GLOBL tanhQ1<>(SB), RODATA|NOPTR, $32

DATA tanhQ2<>+0(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+4(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+8(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+12(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+16(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+20(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+24(SB)/4, $0xbd5c1e2d
DATA tanhQ2<>+28(SB)/4, $0xbd5c1e2d
GLOBL tanhQ2<>(SB), RODATA|NOPTR, $32

DATA tanhQ3<>+0(SB)/4, $0x3e088393
DATA tanhQ3<>+4(SB)/4, $0x3e088393
DATA tanhQ3<>+8(SB)/4, $0x3e088393
DATA tanhQ3<>+12(SB)/4, $0x3e088393
DATA tanhQ3<>+16(SB)/4, $0x3e088393
DATA tanhQ3<>+20(SB)/4, $0x3e088393
DATA tanhQ3<>+24(SB)/4, $0x3e088393
DATA tanhQ3<>+28(SB)/4, $0x3e088393
GLOBL tanhQ3<>(SB), RODATA|NOPTR, $32

DATA tanhQ4<>+0(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+4(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+8(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+12(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+16(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+20(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+24(SB)/4, $0xbeaaaa99
DATA tanhQ4<>+28(SB)/4, $0xbeaaaa99
GLOBL tanhQ4<>(SB), RODATA|NOPTR, $32

DATA tanhSmall<>+0(SB)/4, $0x3f200000
DATA tanhSmall<>+4(SB)/4, $0x3f200000
DATA tanhSmall<>+8(SB)/4, $0x3f200000
DATA tanhSmall<>+12(SB)/4, $0x3f200000
DATA tanhSmall<>+16(SB)/4, $0x3f200000
DATA tanhSmall<>+20(SB)/4, $0x3f200000
DATA tanhSmall<>+24(SB)/4, $0x3f200000
DATA tanhSmall<>+28(SB)/4, $0x3f200000
GLOBL tanhSmall<>(SB), RODATA|NOPTR, $32

DATA ncdfIsqrt2<>+0(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+4(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+8(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+12(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+16(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+20(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+24(SB)/4, $0x3f3504f3
DATA ncdfIsqrt2<>+28(SB)/4, $0x3f3504f3
GLOBL ncdfIsqrt2<>(SB), RODATA|NOPTR, $32

DATA ncdfP<>+0(SB)/4, $0x3ea7ba05
DATA ncdfP<>+4(SB)/4, $0x3ea7ba05
DATA ncdfP<>+8(SB)/4, $0x3ea7ba05
DATA ncdfP<>+12(SB)/4, $0x3ea7ba05
DATA ncdfP<>+16(SB)/4, $0x3ea7ba05
DATA ncdfP<>+20(SB)/4, $0x3ea7ba05
DATA ncdfP<>+24(SB)/4, $0x3ea7ba05
DATA ncdfP<>+28(SB)/4, $0x3ea7ba05
GLOBL ncdfP<>(SB), RODATA|NOPTR, $32

DATA ncdfA5<>+0(SB)/4, $0x3f87dc22
DATA ncdfA5<>+4(SB)/4, $0x3f87dc22
DATA ncdfA5<>+8(SB)/4, $0x3f87dc22
DATA ncdfA5<>+12(SB)/4, $0x3f87dc22
DATA ncdfA5<>+16(SB)/4, $0x3f87dc22
DATA ncdfA5<>+20(SB)/4, $0x3f87dc22
DATA ncdfA5<>+24(SB)/4, $0x3f87dc22
DATA ncdfA5<>+28(SB)/4, $0x3f87dc22
GLOBL ncdfA5<>(SB), RODATA|NOPTR, $32

DATA ncdfA4<>+0(SB)/4, $0xbfba00e3
DATA ncdfA4<>+4(SB)/4, $0xbfba00e3
DATA ncdfA4<>+8(SB)/4, $0xbfba00e3
DATA ncdfA4<>+12(SB)/4, $0xbfba00e3
DATA ncdfA4<>+16(SB)/4, $0xbfba00e3
DATA ncdfA4<>+20(SB)/4, $0xbfba00e3
DATA ncdfA4<>+24(SB)/4, $0xbfba00e3
DATA ncdfA4<>+28(SB)/4, $0xbfba00e3
GLOBL ncdfA4<>(SB), RODATA|NOPTR, $32

DATA ncdfA3<>+0(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+4(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+8(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+12(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+16(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+20(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+24(SB)/4, $0x3fb5f0e3
DATA ncdfA3<>+28(SB)/4, $0x3fb5f0e3
GLOBL ncdfA3<>(SB), RODATA|NOPTR, $32

DATA ncdfA2<>+0(SB)/4, $0xbe91a98e
DATA ncdfA2<>+4(SB)/4, $0xbe91a98e
DATA ncdfA2<>+8(SB)/4, $0xbe91a98e
DATA ncdfA2<>+12(SB)/4, $0xbe91a98e
DATA ncdfA2<>+16(SB)/4, $0xbe91a98e
DATA ncdfA2<>+20(SB)/4, $0xbe91a98e
DATA ncdfA2<>+24(SB)/4, $0xbe91a98e
DATA ncdfA2<>+28(SB)/4, $0xbe91a98e
GLOBL ncdfA2<>(SB), RODATA|NOPTR, $32

DATA ncdfA1<>+0(SB)/4, $0x3e827906
DATA ncdfA1<>+4(SB)/4, $0x3e827906
DATA ncdfA1<>+8(SB)/4, $0x3e827906
DATA ncdfA1<>+12(SB)/4, $0x3e827906
DATA ncdfA1<>+16(SB)/4, $0x3e827906
DATA ncdfA1<>+20(SB)/4, $0x3e827906
DATA ncdfA1<>+24(SB)/4, $0x3e827906
DATA ncdfA1<>+28(SB)/4, $0x3e827906
GLOBL ncdfA1<>(SB), RODATA|NOPTR, $32

DATA ncdfPdf<>+0(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+4(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+8(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+12(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+16(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+20(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+24(SB)/4, $0x3ecc422a
DATA ncdfPdf<>+28(SB)/4, $0x3ecc422a
GLOBL ncdfPdf<>(SB), RODATA|NOPTR, $32

// func tanhAVX2(x, t []float32)
// t[k] = tanh(x[k]) as tanhs computes it, for len(x) a multiple of 8
// (len(t) >= len(x); t may be x).
TEXT ·tanhAVX2(SB), NOSPLIT, $0-48
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ t_base+24(FP), DI
	SHRQ $3, CX
	JZ   tanhdone
	EXP_CONSTS

tanhloop:
	VMOVUPS (SI), Y5
	VANDPS  actAbs<>(SB), Y5, Y0   // |x|
	VMULPS  actM2<>(SB), Y0, Y0    // -2|x|
	EXP8                           // e = exp(-2|x|)
	VSUBPS  Y3, Y14, Y6            // 1 - e
	VADDPS  Y14, Y3, Y7            // 1 + e
	VDIVPS  Y7, Y6, Y6             // big = (1-e)/(1+e)
	VANDPS  expSign<>(SB), Y5, Y7
	VORPS   Y7, Y6, Y6             // with x's sign
	VMULPS  Y5, Y5, Y0             // z = x*x
	VMULPS  tanhQ0<>(SB), Y0, Y1   // p = q0*z
	VADDPS  tanhQ1<>(SB), Y1, Y1
	VMULPS  Y0, Y1, Y1
	VADDPS  tanhQ2<>(SB), Y1, Y1
	VMULPS  Y0, Y1, Y1
	VADDPS  tanhQ3<>(SB), Y1, Y1
	VMULPS  Y0, Y1, Y1
	VADDPS  tanhQ4<>(SB), Y1, Y1
	VMULPS  Y0, Y1, Y1             // p*z
	VMULPS  Y5, Y1, Y1             // *x
	VADDPS  Y5, Y1, Y1             // small = p*z*x + x
	VANDPS  actAbs<>(SB), Y5, Y2
	VSUBPS  tanhSmall<>(SB), Y2, Y2 // |x| - 0.625: negative picks small
	VBLENDVPS Y2, Y1, Y6, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     tanhloop
	VZEROUPPER

tanhdone:
	RET

// func ncdfAVX2(x, c, pdf []float32)
// c[k] = Phi(x[k]) and, when pdf is not nil, pdf[k] = phi(x[k]), as ncdfs
// computes them, for len(x) a multiple of 8.
TEXT ·ncdfAVX2(SB), NOSPLIT, $0-72
	MOVQ x_base+0(FP), SI
	MOVQ x_len+8(FP), CX
	MOVQ c_base+24(FP), DI
	MOVQ pdf_base+48(FP), DX
	SHRQ $3, CX
	JZ   ncdfdone
	EXP_CONSTS

ncdfloop:
	VMOVUPS (SI), Y5
	VMULPS  actM05<>(SB), Y5, Y0   // -0.5*x
	VMULPS  Y5, Y0, Y0             // *x
	EXP8                           // e = exp(-x*x/2)
	TESTQ   DX, DX
	JZ      nopdf
	VMULPS  ncdfPdf<>(SB), Y3, Y4
	VMOVUPS Y4, (DX)
	ADDQ    $32, DX

nopdf:
	VANDPS  actAbs<>(SB), Y5, Y0
	VMULPS  ncdfIsqrt2<>(SB), Y0, Y0 // a = |x|/sqrt2
	VMULPS  ncdfP<>(SB), Y0, Y1
	VADDPS  Y14, Y1, Y1
	VDIVPS  Y1, Y14, Y1            // t = 1/(1 + 0.3275911*a)
	VMULPS  ncdfA5<>(SB), Y1, Y2   // p = a5*t
	VADDPS  ncdfA4<>(SB), Y2, Y2
	VMULPS  Y1, Y2, Y2
	VADDPS  ncdfA3<>(SB), Y2, Y2
	VMULPS  Y1, Y2, Y2
	VADDPS  ncdfA2<>(SB), Y2, Y2
	VMULPS  Y1, Y2, Y2
	VADDPS  ncdfA1<>(SB), Y2, Y2
	VMULPS  actHalf<>(SB), Y1, Y4  // 0.5*t
	VMULPS  Y2, Y4, Y4             // *p
	VMULPS  Y3, Y4, Y4             // *e: tail = Phi(-|x|)
	VSUBPS  Y4, Y14, Y6            // 1 - tail
	VXORPS  expSign<>(SB), Y5, Y7  // -x: sign set picks 1 - tail
	VBLENDVPS Y7, Y6, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	DECQ    CX
	JNZ     ncdfloop
	VZEROUPPER

ncdfdone:
	RET

// func biasReLUAVX2(dst, src *float32, n int, bk float32, relu bool)
//
// dst = src + bk, then max(0, .) if relu, 8 floats a step (n > 0, a
// multiple of 8). VMAXPS with the value second keeps a NaN.
TEXT ·biasReLUAVX2(SB), NOSPLIT, $0-29
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS bk+24(FP), Y1
	VXORPS Y0, Y0, Y0
	MOVBLZX relu+28(FP), AX
	TESTL AX, AX
	JZ add

relu:
	VADDPS (SI), Y1, Y2
	VMAXPS Y2, Y0, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG relu
	VZEROUPPER
	RET

add:
	VADDPS (SI), Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG add
	VZEROUPPER
	RET

// func maxPairsAVX2(y, r *float32, n int, first bool)
//
// y[q] = max(r[2q], r[2q+1]) (first), else max(y[q], r[2q], r[2q+1]), for
// q < n (n > 0, a multiple of 8); a NaN wins: VMAXPS keeps its second
// operand's NaN, and a blend the first's.
TEXT ·maxPairsAVX2(SB), NOSPLIT, $0-25
	MOVQ y+0(FP), DI
	MOVQ r+8(FP), SI
	MOVQ n+16(FP), CX
	MOVBLZX first+24(FP), AX

pairs:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMAXPS Y3, Y2, Y4
	VCMPPS $3, Y2, Y2, Y5
	VBLENDVPS Y5, Y2, Y4, Y4
	TESTL AX, AX
	JNZ store
	VMOVUPS (DI), Y6
	VMAXPS Y4, Y6, Y7
	VCMPPS $3, Y6, Y6, Y5
	VBLENDVPS Y5, Y6, Y7, Y4

store:
	VMOVUPS Y4, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG pairs
	VZEROUPPER
	RET

// func clampAVX2(x *float32, n int, lo, hi float32)
//
// x = min(max(x, lo), hi) in place, 8 floats a step (n > 0, a multiple of
// 8); the value is VMAXPS's and VMINPS's second operand, so a NaN stays.
TEXT ·clampAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS lo+16(FP), Y0
	VBROADCASTSS hi+20(FP), Y1

clamp:
	VMOVUPS (DI), Y2
	VMAXPS Y2, Y0, Y2
	VMINPS Y2, Y1, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JG clamp
	VZEROUPPER
	RET

// func dot4AVX2(k int, w *float32, ldw int, x *float32, out *float32)
//
// out[r] = sum over j < k of w[r*ldw+j] * x[j] for r < 4 (k > 0, a multiple
// of 8): x loaded once a step for the four rows, two accumulators a row.
TEXT ·dot4AVX2(SB), NOSPLIT, $0-40
	MOVQ k+0(FP), CX
	MOVQ w+8(FP), SI
	MOVQ ldw+16(FP), DX
	SHLQ $2, DX
	MOVQ x+24(FP), DI
	MOVQ out+32(FP), AX
	LEAQ (SI)(DX*1), R8
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8

dot16:
	CMPQ CX, $16
	JLT dot8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y9
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS (R8), Y0, Y2
	VFMADD231PS (R9), Y0, Y3
	VFMADD231PS (R10), Y0, Y4
	VFMADD231PS 32(SI), Y9, Y5
	VFMADD231PS 32(R8), Y9, Y6
	VFMADD231PS 32(R9), Y9, Y7
	VFMADD231PS 32(R10), Y9, Y8
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	SUBQ $16, CX
	JMP dot16

dot8:
	CMPQ CX, $8
	JLT sum
	VMOVUPS (DI), Y0
	VFMADD231PS (SI), Y0, Y1
	VFMADD231PS (R8), Y0, Y2
	VFMADD231PS (R9), Y0, Y3
	VFMADD231PS (R10), Y0, Y4

sum:
	VADDPS Y5, Y1, Y1
	VADDPS Y6, Y2, Y2
	VADDPS Y7, Y3, Y3
	VADDPS Y8, Y4, Y4
	VHADDPS Y2, Y1, Y1
	VHADDPS Y4, Y3, Y3
	VHADDPS Y3, Y1, Y1
	VEXTRACTF128 $1, Y1, X2
	VADDPS X2, X1, X1
	VMOVUPS X1, (AX)
	VZEROUPPER
	RET
