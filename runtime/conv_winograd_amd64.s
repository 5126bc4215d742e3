//go:build !purego

#include "textflag.h"

// The transforms' row pointers (winoBTFMA, winoATFMA): the arguments in,
// offs, out, outs and n into the six input rows SI, R9, R10, R12, R13, R14,
// the output DI with its stride DX in bytes, and the count R8.
#define WINO_ROWS \
	MOVQ in+0(FP), R15; \
	MOVQ offs+8(FP), CX; \
	MOVQ out+16(FP), DI; \
	MOVQ outs+24(FP), DX; \
	SHLQ $2, DX; \
	MOVQ n+32(FP), R8; \
	MOVQ 0(CX), SI; \
	LEAQ (R15)(SI*4), SI; \
	MOVQ 8(CX), R9; \
	LEAQ (R15)(R9*4), R9; \
	MOVQ 16(CX), R10; \
	LEAQ (R15)(R10*4), R10; \
	MOVQ 24(CX), R12; \
	LEAQ (R15)(R12*4), R12; \
	MOVQ 32(CX), R13; \
	LEAQ (R15)(R13*4), R13; \
	MOVQ 40(CX), R14; \
	LEAQ (R15)(R14*4), R14;

// WINO_LOAD loads 8 floats of each input row into Y0-Y5 and points R11 at
// the first output row; WINO_NEXT moves all rows on by 8 floats.
#define WINO_LOAD \
	VMOVUPS (SI), Y0; \
	VMOVUPS (R9), Y1; \
	VMOVUPS (R10), Y2; \
	VMOVUPS (R12), Y3; \
	VMOVUPS (R13), Y4; \
	VMOVUPS (R14), Y5; \
	MOVQ DI, R11;

#define WINO_NEXT \
	ADDQ $32, SI; \
	ADDQ $32, R9; \
	ADDQ $32, R10; \
	ADDQ $32, R12; \
	ADDQ $32, R13; \
	ADDQ $32, R14; \
	ADDQ $32, DI; \
	SUBQ $8, R8;


// func winoBTFMA(in *float32, offs *[6]int, out *float32, outs int, n int)
//
// The rows of Bᵀ d for the 6 rows d_j = in[offs[j]:] (n > 0 floats, a
// multiple of 8), in rows out[i*outs:]:
//
//	4d0 - 5d2 + d4, -4(d1+d2) + d3 + d4, 4(d1-d2) - d3 + d4,
//	2(d3-d1) - d2 + d4, -2(d3-d1) - d2 + d4, 4d1 - 5d3 + d5
TEXT ·winoBTFMA(SB), NOSPLIT, $0-40
	WINO_ROWS
	MOVL $0x40800000, AX
	VMOVD AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x40a00000, AX
	VMOVD AX, X13
	VBROADCASTSS X13, Y13
	MOVL $0x40000000, AX
	VMOVD AX, X14
	VBROADCASTSS X14, Y14

bt:
	WINO_LOAD
	VMOVAPS Y4, Y7
	VFMADD231PS Y12, Y0, Y7
	VFNMADD231PS Y13, Y2, Y7
	VMOVUPS Y7, (R11)
	ADDQ DX, R11
	VADDPS Y2, Y1, Y8
	VADDPS Y4, Y3, Y9
	VFNMADD231PS Y12, Y8, Y9
	VMOVUPS Y9, (R11)
	ADDQ DX, R11
	VSUBPS Y2, Y1, Y8
	VSUBPS Y3, Y4, Y9
	VFMADD231PS Y12, Y8, Y9
	VMOVUPS Y9, (R11)
	ADDQ DX, R11
	VSUBPS Y1, Y3, Y8
	VSUBPS Y2, Y4, Y6
	VMOVAPS Y6, Y9
	VFMADD231PS Y14, Y8, Y9
	VMOVUPS Y9, (R11)
	ADDQ DX, R11
	VFNMADD231PS Y14, Y8, Y6
	VMOVUPS Y6, (R11)
	ADDQ DX, R11
	VMOVAPS Y5, Y9
	VFMADD231PS Y12, Y1, Y9
	VFNMADD231PS Y13, Y3, Y9
	VMOVUPS Y9, (R11)
	WINO_NEXT
	JG bt
	VZEROUPPER
	RET

// func winoATFMA(in *float32, offs *[6]int, out *float32, outs int, n int)
//
// The rows of Aᵀ m for the 6 rows m_j = in[offs[j]:] (n > 0 floats, a
// multiple of 8), in rows out[i*outs:]; with a = m1+m2, b = m1-m2, c =
// m3+m4, d = m3-m4:
//
//	m0 + a + c, b + 2d, a + 4c, b + 8d + m5
TEXT ·winoATFMA(SB), NOSPLIT, $0-40
	WINO_ROWS
	MOVL $0x40800000, AX
	VMOVD AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x41000000, AX
	VMOVD AX, X13
	VBROADCASTSS X13, Y13
	MOVL $0x40000000, AX
	VMOVD AX, X14
	VBROADCASTSS X14, Y14

at:
	WINO_LOAD
	VADDPS Y2, Y1, Y6
	VSUBPS Y2, Y1, Y7
	VADDPS Y4, Y3, Y8
	VSUBPS Y4, Y3, Y9
	VADDPS Y6, Y0, Y10
	VADDPS Y8, Y10, Y10
	VMOVUPS Y10, (R11)
	ADDQ DX, R11
	VMOVAPS Y7, Y10
	VFMADD231PS Y14, Y9, Y10
	VMOVUPS Y10, (R11)
	ADDQ DX, R11
	VFMADD231PS Y12, Y8, Y6
	VMOVUPS Y6, (R11)
	ADDQ DX, R11
	VADDPS Y5, Y7, Y7
	VFMADD231PS Y13, Y9, Y7
	VMOVUPS Y7, (R11)
	WINO_NEXT
	JG at
	VZEROUPPER
	RET

// func winoDeint(src *float32, n int, dst *float32, lds int, idx *int32)
//
// dst[r*lds+i] = src[4*i+r] for r < 4 and i < n (n > 0, a multiple of 8):
// 8 tiles of 4 columns a step, transposed by unpacks, their order fixed by
// one VPERMPS with idx = [0 4 1 5 2 6 3 7].
TEXT ·winoDeint(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ n+8(FP), CX
	MOVQ dst+16(FP), DI
	MOVQ lds+24(FP), DX
	SHLQ $2, DX
	MOVQ idx+32(FP), AX
	VMOVDQU (AX), Y15
	LEAQ (DI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11

deint:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKHPS Y1, Y0, Y5
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VUNPCKLPD Y6, Y4, Y8
	VUNPCKHPD Y6, Y4, Y9
	VUNPCKLPD Y7, Y5, Y10
	VUNPCKHPD Y7, Y5, Y11
	VPERMPS Y8, Y15, Y8
	VPERMPS Y9, Y15, Y9
	VPERMPS Y10, Y15, Y10
	VPERMPS Y11, Y15, Y11
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (R9)
	VMOVUPS Y10, (R10)
	VMOVUPS Y11, (R11)
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, CX
	JG deint
	VZEROUPPER
	RET

// func winoInt(src *float32, lds int, n int, dst *float32, idx *int32)
//
// dst[4*i+e] = src[e*lds+i] for e < 4 and i < n (n > 0, a multiple of 8):
// winoDeint's inverse, with idx = [0 2 4 6 1 3 5 7].
TEXT ·winoInt(SB), NOSPLIT, $0-40
	MOVQ src+0(FP), SI
	MOVQ lds+8(FP), DX
	SHLQ $2, DX
	MOVQ n+16(FP), CX
	MOVQ dst+24(FP), DI
	MOVQ idx+32(FP), AX
	VMOVDQU (AX), Y15
	LEAQ (SI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11

inter:
	VMOVUPS (SI), Y0
	VMOVUPS (R9), Y1
	VMOVUPS (R10), Y2
	VMOVUPS (R11), Y3
	VPERMPS Y0, Y15, Y0
	VPERMPS Y1, Y15, Y1
	VPERMPS Y2, Y15, Y2
	VPERMPS Y3, Y15, Y3
	VUNPCKLPD Y1, Y0, Y4
	VUNPCKHPD Y1, Y0, Y5
	VUNPCKLPD Y3, Y2, Y6
	VUNPCKHPD Y3, Y2, Y7
	VSHUFPS $0x88, Y6, Y4, Y8
	VSHUFPS $0xDD, Y6, Y4, Y9
	VSHUFPS $0x88, Y7, Y5, Y10
	VSHUFPS $0xDD, Y7, Y5, Y11
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, 32(DI)
	VMOVUPS Y10, 64(DI)
	VMOVUPS Y11, 96(DI)
	ADDQ $32, SI
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	ADDQ $128, DI
	SUBQ $8, CX
	JG inter
	VZEROUPPER
	RET
