//go:build !noasm

// AVX2+FMA3 variants of DotRows and AxpyRows, in the order of operations
// that rows.go documents (the same bits as the generic and AVX-512 ones).
// A dot keeps its 16 partial sums in two ymm registers (lanes 0-7 and 8-15).
// Row tails use VMASKMOVPS, which neither reads nor writes masked-off lanes.

#include "textflag.h"

// rowmask8<>+32-4*c (c = 0..8) holds 8 int32 lanes whose first c are all
// ones: the VMASKMOVPS mask of c lanes.
DATA rowmask8<>+0(SB)/4, $0xffffffff
DATA rowmask8<>+4(SB)/4, $0xffffffff
DATA rowmask8<>+8(SB)/4, $0xffffffff
DATA rowmask8<>+12(SB)/4, $0xffffffff
DATA rowmask8<>+16(SB)/4, $0xffffffff
DATA rowmask8<>+20(SB)/4, $0xffffffff
DATA rowmask8<>+24(SB)/4, $0xffffffff
DATA rowmask8<>+28(SB)/4, $0xffffffff
DATA rowmask8<>+32(SB)/4, $0x00000000
DATA rowmask8<>+36(SB)/4, $0x00000000
DATA rowmask8<>+40(SB)/4, $0x00000000
DATA rowmask8<>+44(SB)/4, $0x00000000
DATA rowmask8<>+48(SB)/4, $0x00000000
DATA rowmask8<>+52(SB)/4, $0x00000000
DATA rowmask8<>+56(SB)/4, $0x00000000
DATA rowmask8<>+60(SB)/4, $0x00000000
GLOBL rowmask8<>(SB), RODATA|NOPTR, $64

// MASK8 loads into Y the mask of min(max(BX-OFF, 0), 8) lanes. R10 must hold
// 0. Clobbers R12, R13.
#define MASK8(OFF, Y) \
	MOVQ    BX, R13; \
	SUBQ    $OFF, R13; \
	CMPQ    R13, $0; \
	CMOVQLT R10, R13; \
	MOVQ    $8, R12; \
	CMPQ    R13, R12; \
	CMOVQGT R12, R13; \
	NEGQ    R13; \
	LEAQ    rowmask8<>+32(SB), R12; \
	VMOVUPS (R12)(R13*4), Y

// HSUM8x2 leaves in the low lane of XL the sum of the 16 lanes of YL, YH in
// the tree order of rows.go. Clobbers XT.
#define HSUM8x2(YL, YH, XL, XT) \
	VADDPS       YH, YL, YL; \
	VEXTRACTF128 $1, YL, XT; \
	VADDPS       XT, XL, XL; \
	VMOVHLPS     XL, XL, XT; \
	VADDPS       XT, XL, XL; \
	VMOVSHDUP    XL, XT; \
	VADDSS       XT, XL, XL

// DOTTAIL adds the masked tail of one key at A (its second half at A32;
// masks Y10, Y11; query tail in Y8, Y9) to the partial sums L, H.
#define DOTTAIL(A, A32, L, H) \
	VMASKMOVPS  A, Y10, Y12; \
	VFMADD231PS Y12, Y8, L; \
	VMASKMOVPS  A32, Y11, Y13; \
	VFMADD231PS Y13, Y9, H

// func dotRowsAVX2(out, q, k []float32, ldk int)
//
// Keys four at a time (partial sums Y0-Y7, rows at R12, +R9, +2*R9, +R10),
// then one at a time. Y8, Y9 hold 16 query floats; Y10, Y11 mask the last
// d%16.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ  out_base+0(FP), DI
	MOVQ  out_len+8(FP), CX
	MOVQ  q_base+24(FP), SI
	MOVQ  q_len+32(FP), DX
	MOVQ  k_base+48(FP), R8
	MOVQ  ldk+72(FP), R9
	SHLQ  $2, R9
	MOVQ  DX, R11
	ANDQ  $-16, R11
	MOVQ  DX, BX
	ANDQ  $15, BX
	XORQ  R10, R10
	MASK8(0, Y10)
	MASK8(8, Y11)
	LEAQ  (R9)(R9*2), R10
	JMP   cond4

loop4:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX
	JMP    condk4

inner4:
	VMOVUPS     (SI)(AX*4), Y8
	VMOVUPS     32(SI)(AX*4), Y9
	LEAQ        (R8)(AX*4), R12
	VFMADD231PS (R12), Y8, Y0
	VFMADD231PS 32(R12), Y9, Y1
	VFMADD231PS (R12)(R9*1), Y8, Y2
	VFMADD231PS 32(R12)(R9*1), Y9, Y3
	VFMADD231PS (R12)(R9*2), Y8, Y4
	VFMADD231PS 32(R12)(R9*2), Y9, Y5
	VFMADD231PS (R12)(R10*1), Y8, Y6
	VFMADD231PS 32(R12)(R10*1), Y9, Y7
	ADDQ        $16, AX

condk4:
	CMPQ AX, R11
	JB   inner4
	CMPQ AX, DX
	JAE  reduce4
	VMASKMOVPS (SI)(AX*4), Y10, Y8
	VMASKMOVPS 32(SI)(AX*4), Y11, Y9
	LEAQ       (R8)(AX*4), R12
	DOTTAIL((R12), 32(R12), Y0, Y1)
	DOTTAIL((R12)(R9*1), 32(R12)(R9*1), Y2, Y3)
	DOTTAIL((R12)(R9*2), 32(R12)(R9*2), Y4, Y5)
	DOTTAIL((R12)(R10*1), 32(R12)(R10*1), Y6, Y7)

reduce4:
	HSUM8x2(Y0, Y1, X0, X12)
	HSUM8x2(Y2, Y3, X2, X13)
	HSUM8x2(Y4, Y5, X4, X14)
	HSUM8x2(Y6, Y7, X6, X15)
	VMOVSS X0, (DI)
	VMOVSS X2, 4(DI)
	VMOVSS X4, 8(DI)
	VMOVSS X6, 12(DI)
	ADDQ   $16, DI
	LEAQ   (R8)(R9*4), R8
	SUBQ   $4, CX

cond4:
	CMPQ CX, $4
	JAE  loop4
	JMP  cond1

loop1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX
	JMP    condk1

inner1:
	VMOVUPS     (SI)(AX*4), Y8
	VMOVUPS     32(SI)(AX*4), Y9
	VFMADD231PS (R8)(AX*4), Y8, Y0
	VFMADD231PS 32(R8)(AX*4), Y9, Y1
	ADDQ        $16, AX

condk1:
	CMPQ AX, R11
	JB   inner1
	CMPQ AX, DX
	JAE  reduce1
	VMASKMOVPS (SI)(AX*4), Y10, Y8
	VMASKMOVPS 32(SI)(AX*4), Y11, Y9
	DOTTAIL((R8)(AX*4), 32(R8)(AX*4), Y0, Y1)

reduce1:
	HSUM8x2(Y0, Y1, X0, X12)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   CX

cond1:
	TESTQ CX, CX
	JNZ   loop1
	VZEROUPPER
	RET

// AXPYV adds B times the vector at A (mask M) to the partial sums S.
#define AXPYV(A, M, B, S) \
	VMASKMOVPS  A, M, Y14; \
	VFMADD231PS Y14, B, S

// func axpyRowsAVX2(out, p, v []float32, ldv int)
//
// Columns 32 at a time (Y10-Y13 mask the four vectors of a chunk): even-j
// chains in Y0-Y3 start from out, odd-j chains in Y4-Y7 from zero; rows j and
// j+1 sit at R12 and R12+R9.
TEXT ·axpyRowsAVX2(SB), NOSPLIT, $0-80
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ p_base+24(FP), SI
	MOVQ p_len+32(FP), DX
	MOVQ v_base+48(FP), R8
	MOVQ ldv+72(FP), R9
	SHLQ $2, R9
	MOVQ DX, R11
	ANDQ $-2, R11
	XORQ AX, AX

chunk:
	MOVQ       CX, BX
	SUBQ       AX, BX
	XORQ       R10, R10
	MASK8(0, Y10)
	MASK8(8, Y11)
	MASK8(16, Y12)
	MASK8(24, Y13)
	VMASKMOVPS (DI)(AX*4), Y10, Y0
	VMASKMOVPS 32(DI)(AX*4), Y11, Y1
	VMASKMOVPS 64(DI)(AX*4), Y12, Y2
	VMASKMOVPS 96(DI)(AX*4), Y13, Y3
	VXORPS     Y4, Y4, Y4
	VXORPS     Y5, Y5, Y5
	VXORPS     Y6, Y6, Y6
	VXORPS     Y7, Y7, Y7
	LEAQ       (R8)(AX*4), R12
	JMP        condj

pair:
	VBROADCASTSS (SI)(R10*4), Y8
	VBROADCASTSS 4(SI)(R10*4), Y9
	AXPYV((R12), Y10, Y8, Y0)
	AXPYV(32(R12), Y11, Y8, Y1)
	AXPYV(64(R12), Y12, Y8, Y2)
	AXPYV(96(R12), Y13, Y8, Y3)
	AXPYV((R12)(R9*1), Y10, Y9, Y4)
	AXPYV(32(R12)(R9*1), Y11, Y9, Y5)
	AXPYV(64(R12)(R9*1), Y12, Y9, Y6)
	AXPYV(96(R12)(R9*1), Y13, Y9, Y7)
	LEAQ         (R12)(R9*2), R12
	ADDQ         $2, R10

condj:
	CMPQ R10, R11
	JB   pair
	CMPQ R10, DX
	JAE  store
	VBROADCASTSS (SI)(R10*4), Y8
	AXPYV((R12), Y10, Y8, Y0)
	AXPYV(32(R12), Y11, Y8, Y1)
	AXPYV(64(R12), Y12, Y8, Y2)
	AXPYV(96(R12), Y13, Y8, Y3)

store:
	VADDPS     Y4, Y0, Y0
	VADDPS     Y5, Y1, Y1
	VADDPS     Y6, Y2, Y2
	VADDPS     Y7, Y3, Y3
	VMASKMOVPS Y0, Y10, (DI)(AX*4)
	VMASKMOVPS Y1, Y11, 32(DI)(AX*4)
	VMASKMOVPS Y2, Y12, 64(DI)(AX*4)
	VMASKMOVPS Y3, Y13, 96(DI)(AX*4)
	ADDQ       $32, AX
	CMPQ       AX, CX
	JB         chunk
	VZEROUPPER
	RET

// The bf16 forms (rows_bf16.go): 8 bf16 at a time zero-extended to dwords
// (VPMOVZXWD from 16 bytes) and shifted into float32 bits, then the float32
// kernels' FMAs in their order. AVX2 has no masked 16-bit load, so these
// take whole vectors only: dotRowsBF16AVX2 needs len(q) a multiple of 16,
// axpyRowsBF16AVX2 len(out) a multiple of 8 (the Go side sends other
// lengths to the generic twins).

// WDOT adds the 16 bf16 of one key at A (its second 8 at A16), widened,
// times the query in Y8, Y9 to the partial sums L, H.
#define WDOT(A, A16, L, H) \
	VPMOVZXWD   A, Y12; \
	VPSLLD      $16, Y12, Y12; \
	VFMADD231PS Y12, Y8, L; \
	VPMOVZXWD   A16, Y13; \
	VPSLLD      $16, Y13, Y13; \
	VFMADD231PS Y13, Y9, H

// func dotRowsBF16AVX2(out, q []float32, k []uint16, ldk int)
//
// dotRowsAVX2 with bf16 keys and no tail: keys four at a time, then one.
TEXT ·dotRowsBF16AVX2(SB), NOSPLIT, $0-80
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ q_base+24(FP), SI
	MOVQ q_len+32(FP), DX
	MOVQ k_base+48(FP), R8
	MOVQ ldk+72(FP), R9
	SHLQ $1, R9
	LEAQ (R9)(R9*2), R10
	JMP  wcond4

wloop4:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX
	JMP    wcondk4

winner4:
	VMOVUPS (SI)(AX*4), Y8
	VMOVUPS 32(SI)(AX*4), Y9
	LEAQ    (R8)(AX*2), R12
	WDOT((R12), 16(R12), Y0, Y1)
	WDOT((R12)(R9*1), 16(R12)(R9*1), Y2, Y3)
	WDOT((R12)(R9*2), 16(R12)(R9*2), Y4, Y5)
	WDOT((R12)(R10*1), 16(R12)(R10*1), Y6, Y7)
	ADDQ    $16, AX

wcondk4:
	CMPQ AX, DX
	JB   winner4
	HSUM8x2(Y0, Y1, X0, X12)
	HSUM8x2(Y2, Y3, X2, X13)
	HSUM8x2(Y4, Y5, X4, X14)
	HSUM8x2(Y6, Y7, X6, X15)
	VMOVSS X0, (DI)
	VMOVSS X2, 4(DI)
	VMOVSS X4, 8(DI)
	VMOVSS X6, 12(DI)
	ADDQ   $16, DI
	LEAQ   (R8)(R9*4), R8
	SUBQ   $4, CX

wcond4:
	CMPQ CX, $4
	JAE  wloop4
	JMP  wcond1

wloop1:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX
	JMP    wcondk1

winner1:
	VMOVUPS (SI)(AX*4), Y8
	VMOVUPS 32(SI)(AX*4), Y9
	WDOT((R8)(AX*2), 16(R8)(AX*2), Y0, Y1)
	ADDQ    $16, AX

wcondk1:
	CMPQ AX, DX
	JB   winner1
	HSUM8x2(Y0, Y1, X0, X12)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   CX

wcond1:
	TESTQ CX, CX
	JNZ   wloop1
	VZEROUPPER
	RET

// WAXPY adds B times the 8 bf16 at A, widened, to the partial sums S.
#define WAXPY(A, B, S) \
	VPMOVZXWD   A, Y14; \
	VPSLLD      $16, Y14, Y14; \
	VFMADD231PS Y14, B, S

// func axpyRowsBF16AVX2(out, p []float32, v []uint16, ldv int)
//
// axpyRowsAVX2 with bf16 values: columns 32 at a time while a whole chunk
// remains (even-j chains Y0-Y3 from out, odd-j chains Y4-Y7 from zero),
// then 8 at a time (Y0, Y4).
TEXT ·axpyRowsBF16AVX2(SB), NOSPLIT, $0-80
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ p_base+24(FP), SI
	MOVQ p_len+32(FP), DX
	MOVQ v_base+48(FP), R8
	MOVQ ldv+72(FP), R9
	SHLQ $1, R9
	MOVQ DX, R11
	ANDQ $-2, R11
	XORQ AX, AX
	JMP  wcond32

wchunk32:
	VMOVUPS (DI)(AX*4), Y0
	VMOVUPS 32(DI)(AX*4), Y1
	VMOVUPS 64(DI)(AX*4), Y2
	VMOVUPS 96(DI)(AX*4), Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	LEAQ    (R8)(AX*2), R12
	XORQ    R10, R10
	JMP     wcondj32

wpair32:
	VBROADCASTSS (SI)(R10*4), Y8
	VBROADCASTSS 4(SI)(R10*4), Y9
	WAXPY((R12), Y8, Y0)
	WAXPY(16(R12), Y8, Y1)
	WAXPY(32(R12), Y8, Y2)
	WAXPY(48(R12), Y8, Y3)
	WAXPY((R12)(R9*1), Y9, Y4)
	WAXPY(16(R12)(R9*1), Y9, Y5)
	WAXPY(32(R12)(R9*1), Y9, Y6)
	WAXPY(48(R12)(R9*1), Y9, Y7)
	LEAQ         (R12)(R9*2), R12
	ADDQ         $2, R10

wcondj32:
	CMPQ R10, R11
	JB   wpair32
	CMPQ R10, DX
	JAE  wstore32
	VBROADCASTSS (SI)(R10*4), Y8
	WAXPY((R12), Y8, Y0)
	WAXPY(16(R12), Y8, Y1)
	WAXPY(32(R12), Y8, Y2)
	WAXPY(48(R12), Y8, Y3)

wstore32:
	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX

wcond32:
	MOVQ CX, BX
	SUBQ AX, BX
	CMPQ BX, $32
	JAE  wchunk32
	JMP  wcond8

wchunk8:
	VMOVUPS (DI)(AX*4), Y0
	VXORPS  Y4, Y4, Y4
	LEAQ    (R8)(AX*2), R12
	XORQ    R10, R10
	JMP     wcondj8

wpair8:
	VBROADCASTSS (SI)(R10*4), Y8
	VBROADCASTSS 4(SI)(R10*4), Y9
	WAXPY((R12), Y8, Y0)
	WAXPY((R12)(R9*1), Y9, Y4)
	LEAQ         (R12)(R9*2), R12
	ADDQ         $2, R10

wcondj8:
	CMPQ R10, R11
	JB   wpair8
	CMPQ R10, DX
	JAE  wstore8
	VBROADCASTSS (SI)(R10*4), Y8
	WAXPY((R12), Y8, Y0)

wstore8:
	VADDPS  Y4, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX

wcond8:
	CMPQ AX, CX
	JB   wchunk8
	VZEROUPPER
	RET
