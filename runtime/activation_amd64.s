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
