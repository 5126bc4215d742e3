//go:build !purego

#include "textflag.h"

// The AVX2 + FMA loops of the depthwise 3x3 stride-1 kernels
// (conv_depthwise_simd.go): eight outputs (or taps' sums) per vector.

// func dwConv3AVX2(n int, y, r0, r1, r2, w *float32)
// y[i] += sum over kh, kw of w[3*kh+kw] * rkh[i+kw], i < n (a multiple of
// 8): sixteen outputs per iteration in two vectors, each summed in three
// chains (one per row) so that the FMAs' latency overlaps.
TEXT ·dwConv3AVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ y+8(FP), DI
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ r2+32(FP), R9
	MOVQ w+40(FP), AX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	VBROADCASTSS 24(AX), Y6
	VBROADCASTSS 28(AX), Y7
	VBROADCASTSS 32(AX), Y8

loop16:
	CMPQ CX, $16
	JLT  tail8
	VMOVUPS 0(DI), Y9
	VMOVUPS 32(DI), Y10
	VMULPS  0(R8), Y3, Y11
	VMULPS  32(R8), Y3, Y12
	VMULPS  0(R9), Y6, Y13
	VMULPS  32(R9), Y6, Y14
	VFMADD231PS 0(SI), Y0, Y9
	VFMADD231PS 32(SI), Y0, Y10
	VFMADD231PS 4(R8), Y4, Y11
	VFMADD231PS 36(R8), Y4, Y12
	VFMADD231PS 4(R9), Y7, Y13
	VFMADD231PS 36(R9), Y7, Y14
	VFMADD231PS 4(SI), Y1, Y9
	VFMADD231PS 36(SI), Y1, Y10
	VFMADD231PS 8(R8), Y5, Y11
	VFMADD231PS 40(R8), Y5, Y12
	VFMADD231PS 8(R9), Y8, Y13
	VFMADD231PS 40(R9), Y8, Y14
	VFMADD231PS 8(SI), Y2, Y9
	VFMADD231PS 40(SI), Y2, Y10
	VADDPS  Y11, Y9, Y9
	VADDPS  Y12, Y10, Y10
	VADDPS  Y13, Y9, Y9
	VADDPS  Y14, Y10, Y10
	VMOVUPS Y9, 0(DI)
	VMOVUPS Y10, 32(DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP  loop16

tail8:
	CMPQ CX, $8
	JLT  done
	VMOVUPS 0(DI), Y9
	VMULPS  0(R8), Y3, Y11
	VMULPS  0(R9), Y6, Y13
	VFMADD231PS 0(SI), Y0, Y9
	VFMADD231PS 4(R8), Y4, Y11
	VFMADD231PS 4(R9), Y7, Y13
	VFMADD231PS 4(SI), Y1, Y9
	VFMADD231PS 8(R8), Y5, Y11
	VFMADD231PS 8(R9), Y8, Y13
	VFMADD231PS 8(SI), Y2, Y9
	VADDPS  Y11, Y9, Y9
	VADDPS  Y13, Y9, Y9
	VMOVUPS Y9, 0(DI)

done:
	VZEROUPPER
	RET

// func dwGrad3AVX2(n int, d, r0, r1, r2, acc *float32)
// acc[8*(3*kh+kw)+l] += sum over i = l mod 8 of d[i] * rkh[i+kw], i < n (a
// multiple of 8): the nine taps' sums in nine vector accumulators, loaded
// from acc and stored back.
TEXT ·dwGrad3AVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ d+8(FP), DI
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ r2+32(FP), R9
	MOVQ acc+40(FP), AX
	VMOVUPS 0(AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	VMOVUPS 128(AX), Y4
	VMOVUPS 160(AX), Y5
	VMOVUPS 192(AX), Y6
	VMOVUPS 224(AX), Y7
	VMOVUPS 256(AX), Y8

gloop:
	CMPQ CX, $8
	JLT  gdone
	VMOVUPS 0(DI), Y9
	VFMADD231PS 0(SI), Y9, Y0
	VFMADD231PS 4(SI), Y9, Y1
	VFMADD231PS 8(SI), Y9, Y2
	VFMADD231PS 0(R8), Y9, Y3
	VFMADD231PS 4(R8), Y9, Y4
	VFMADD231PS 8(R8), Y9, Y5
	VFMADD231PS 0(R9), Y9, Y6
	VFMADD231PS 4(R9), Y9, Y7
	VFMADD231PS 8(R9), Y9, Y8
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JMP  gloop

gdone:
	VMOVUPS Y0, 0(AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	VMOVUPS Y4, 128(AX)
	VMOVUPS Y5, 160(AX)
	VMOVUPS Y6, 192(AX)
	VMOVUPS Y7, 224(AX)
	VMOVUPS Y8, 256(AX)
	VZEROUPPER
	RET

// ROW3S2 adds one row's three taps at stride 2 for eight outputs into acc:
// the even and odd columns of r[2i..2i+15] (two loads, VSHUFPS, VPERMPD to
// put the 128-bit halves in order) and the even columns of r[2i+2..2i+17].
#define ROW3S2(R, W0, W1, W2, ACC) \
	VMOVUPS 0(R), Y10 \
	VMOVUPS 32(R), Y11 \
	VSHUFPS $0x88, Y11, Y10, Y12 \
	VSHUFPS $0xDD, Y11, Y10, Y13 \
	VPERMPD $0xD8, Y12, Y12 \
	VPERMPD $0xD8, Y13, Y13 \
	VFMADD231PS Y12, W0, ACC \
	VFMADD231PS Y13, W1, ACC \
	VMOVUPS 8(R), Y10 \
	VMOVUPS 40(R), Y11 \
	VSHUFPS $0x88, Y11, Y10, Y12 \
	VPERMPD $0xD8, Y12, Y12 \
	VFMADD231PS Y12, W2, ACC

// func dwConv3s2AVX2(n int, y, r0, r1, r2, w *float32)
// y[i] += sum over kh, kw of w[3*kh+kw] * rkh[2i+kw], i < n (a multiple of
// 8; each row at least 2n+2 long, one more than the taps read, since the
// loads of the last block reach it): one chain per row.
TEXT ·dwConv3s2AVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ y+8(FP), DI
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ r2+32(FP), R9
	MOVQ w+40(FP), AX
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	VBROADCASTSS 24(AX), Y6
	VBROADCASTSS 28(AX), Y7
	VBROADCASTSS 32(AX), Y8

sloop:
	CMPQ CX, $8
	JLT  sdone
	VMOVUPS 0(DI), Y9
	VXORPS  Y14, Y14, Y14
	VXORPS  Y15, Y15, Y15
	ROW3S2(SI, Y0, Y1, Y2, Y9)
	ROW3S2(R8, Y3, Y4, Y5, Y14)
	ROW3S2(R9, Y6, Y7, Y8, Y15)
	VADDPS  Y14, Y9, Y9
	VADDPS  Y15, Y9, Y9
	VMOVUPS Y9, 0(DI)
	ADDQ $32, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $8, CX
	JMP  sloop

sdone:
	VZEROUPPER
	RET

// GRAD3S2 adds one row's three taps' sums at stride 2 for eight dy values
// (Y9) into A0, A1, A2: the even and odd columns of r[2i..2i+15] and the
// even columns of r[2i+2..2i+17], as ROW3S2.
#define GRAD3S2(R, A0, A1, A2) \
	VMOVUPS 0(R), Y10 \
	VMOVUPS 32(R), Y11 \
	VSHUFPS $0x88, Y11, Y10, Y12 \
	VSHUFPS $0xDD, Y11, Y10, Y13 \
	VPERMPD $0xD8, Y12, Y12 \
	VPERMPD $0xD8, Y13, Y13 \
	VFMADD231PS Y12, Y9, A0 \
	VFMADD231PS Y13, Y9, A1 \
	VMOVUPS 8(R), Y10 \
	VMOVUPS 40(R), Y11 \
	VSHUFPS $0x88, Y11, Y10, Y12 \
	VPERMPD $0xD8, Y12, Y12 \
	VFMADD231PS Y12, Y9, A2

// func dwGrad3s2AVX2(n int, d, r0, r1, r2, acc *float32)
// acc[8*(3*kh+kw)+l] += sum over i = l mod 8 of d[i] * rkh[2i+kw], i < n
// (a multiple of 8; each row at least 2n+2 long, as dwConv3s2AVX2's).
TEXT ·dwGrad3s2AVX2(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ d+8(FP), DI
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), R8
	MOVQ r2+32(FP), R9
	MOVQ acc+40(FP), AX
	VMOVUPS 0(AX), Y0
	VMOVUPS 32(AX), Y1
	VMOVUPS 64(AX), Y2
	VMOVUPS 96(AX), Y3
	VMOVUPS 128(AX), Y4
	VMOVUPS 160(AX), Y5
	VMOVUPS 192(AX), Y6
	VMOVUPS 224(AX), Y7
	VMOVUPS 256(AX), Y8

g2loop:
	CMPQ CX, $8
	JLT  g2done
	VMOVUPS 0(DI), Y9
	GRAD3S2(SI, Y0, Y1, Y2)
	GRAD3S2(R8, Y3, Y4, Y5)
	GRAD3S2(R9, Y6, Y7, Y8)
	ADDQ $32, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $8, CX
	JMP  g2loop

g2done:
	VMOVUPS Y0, 0(AX)
	VMOVUPS Y1, 32(AX)
	VMOVUPS Y2, 64(AX)
	VMOVUPS Y3, 96(AX)
	VMOVUPS Y4, 128(AX)
	VMOVUPS Y5, 160(AX)
	VMOVUPS Y6, 192(AX)
	VMOVUPS Y7, 224(AX)
	VMOVUPS Y8, 256(AX)
	VZEROUPPER
	RET

// func axpyAVX2(n int, y, x *float32, a float32)
//
// y[i] += a*x[i] for i < n (n > 0, a multiple of 8).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ n+0(FP), CX
	MOVQ y+8(FP), DI
	MOVQ x+16(FP), SI
	VBROADCASTSS a+24(FP), Y0

axpy:
	VMOVUPS (DI), Y1
	VFMADD231PS (SI), Y0, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JG axpy
	VZEROUPPER
	RET
