//go:build !noasm

// AVX-512F variants of DotRows and AxpyRows (rows.go documents the order of
// the operations, which these follow exactly), and of their bf16 forms
// (rows_bf16.go). Only registers 0-15 appear in 128/256-bit instructions,
// so the float32 kernels need nothing beyond AVX-512F; the bf16 ones load
// words under a mask (VMOVDQU16: AVX512BW and AVX512VL). Row tails run
// under opmasks: masked-off lanes are neither read nor written (AVX-512
// suppresses faults on them), so no kernel touches memory outside its rows.

#include "textflag.h"

// rowmask16<>+2*r holds (1<<r)-1 for r = 0..16: the opmask of r lanes.
DATA rowmask16<>+0(SB)/2, $0x0000
DATA rowmask16<>+2(SB)/2, $0x0001
DATA rowmask16<>+4(SB)/2, $0x0003
DATA rowmask16<>+6(SB)/2, $0x0007
DATA rowmask16<>+8(SB)/2, $0x000f
DATA rowmask16<>+10(SB)/2, $0x001f
DATA rowmask16<>+12(SB)/2, $0x003f
DATA rowmask16<>+14(SB)/2, $0x007f
DATA rowmask16<>+16(SB)/2, $0x00ff
DATA rowmask16<>+18(SB)/2, $0x01ff
DATA rowmask16<>+20(SB)/2, $0x03ff
DATA rowmask16<>+22(SB)/2, $0x07ff
DATA rowmask16<>+24(SB)/2, $0x0fff
DATA rowmask16<>+26(SB)/2, $0x1fff
DATA rowmask16<>+28(SB)/2, $0x3fff
DATA rowmask16<>+30(SB)/2, $0x7fff
DATA rowmask16<>+32(SB)/2, $0xffff
GLOBL rowmask16<>(SB), RODATA|NOPTR, $34

// HSUM16 leaves in the low lane of X the sum of the 16 lanes of Z (Y and X
// are Z's low halves) in the tree order of rows.go. T is a scratch ymm, TX
// its low half.
#define HSUM16(Z, Y, X, T, TX) \
	VEXTRACTF64X4 $1, Z, T; \
	VADDPS        T, Y, Y; \
	VEXTRACTF128  $1, Y, TX; \
	VADDPS        TX, X, X; \
	VMOVHLPS      X, X, TX; \
	VADDPS        TX, X, X; \
	VMOVSHDUP     X, TX; \
	VADDSS        TX, X, X

// REDUCE16 sums the 16 lanes of each of Z0-Z15 in HSUM16's tree order and
// leaves the 16 sums in Z0, the sum of Z(4m+k) in lane 4k+m (so a kernel
// that gives accumulator 4o+g the row 4g+o gets its rows in order). Each
// step adds, for two (or four) accumulators at once, the same pairs of
// partial sums as HSUM16, lower half first: lanes l+8 onto l (128-bit
// lanes paired across the two 256-bit halves by VSHUFF32X4), then l+4 onto
// l, l+2 onto l (VSHUFPS within 128-bit lanes), l+1 onto l. 46
// instructions for 16 sums, where 16 HSUM16 take 128. Clobbers Z16-Z19.
#define PAIR8(A, B, D) \
	VSHUFF32X4 $0x44, B, A, Z16; \
	VSHUFF32X4 $0xEE, B, A, Z17; \
	VADDPS     Z17, Z16, D

#define PAIR4(A, B, D) \
	VSHUFF32X4 $0x88, B, A, Z16; \
	VSHUFF32X4 $0xDD, B, A, Z17; \
	VADDPS     Z17, Z16, D

#define PAIR2(A, B, D) \
	VSHUFPS $0x44, B, A, Z16; \
	VSHUFPS $0xEE, B, A, Z17; \
	VADDPS  Z17, Z16, D

#define PAIR1(A, B, D) \
	VSHUFPS $0x88, B, A, Z16; \
	VSHUFPS $0xDD, B, A, Z17; \
	VADDPS  Z17, Z16, D

#define REDUCE16 \
	PAIR8(Z0, Z1, Z0); \
	PAIR8(Z2, Z3, Z1); \
	PAIR8(Z4, Z5, Z2); \
	PAIR8(Z6, Z7, Z3); \
	PAIR8(Z8, Z9, Z4); \
	PAIR8(Z10, Z11, Z5); \
	PAIR8(Z12, Z13, Z6); \
	PAIR8(Z14, Z15, Z7); \
	PAIR4(Z0, Z1, Z0); \
	PAIR4(Z2, Z3, Z1); \
	PAIR4(Z4, Z5, Z2); \
	PAIR4(Z6, Z7, Z3); \
	PAIR2(Z0, Z1, Z0); \
	PAIR2(Z2, Z3, Z1); \
	PAIR1(Z0, Z1, Z0)

// ROWS16(OP) applies OP(g, o, ADDR, ACC) to the 16 rows of a 16-row group:
// row 4g+o at ADDR, accumulated in Z(4o+g) (REDUCE16's order). Rows 0-3,
// 4-7, 8-11 and 12-15 start at R12, R13, R14 and BX; R9 is the row
// stride in bytes and R10 three times it.
#define ROWS16(OP) \
	OP((R12), Z0); \
	OP((R12)(R9*1), Z4); \
	OP((R12)(R9*2), Z8); \
	OP((R12)(R10*1), Z12); \
	OP((R13), Z1); \
	OP((R13)(R9*1), Z5); \
	OP((R13)(R9*2), Z9); \
	OP((R13)(R10*1), Z13); \
	OP((R14), Z2); \
	OP((R14)(R9*1), Z6); \
	OP((R14)(R9*2), Z10); \
	OP((R14)(R10*1), Z14); \
	OP((BX), Z3); \
	OP((BX)(R9*1), Z7); \
	OP((BX)(R9*2), Z11); \
	OP((BX)(R10*1), Z15)

#define ZERO16 \
	VPXORD Z0, Z0, Z0; VPXORD Z1, Z1, Z1; VPXORD Z2, Z2, Z2; VPXORD Z3, Z3, Z3; \
	VPXORD Z4, Z4, Z4; VPXORD Z5, Z5, Z5; VPXORD Z6, Z6, Z6; VPXORD Z7, Z7, Z7; \
	VPXORD Z8, Z8, Z8; VPXORD Z9, Z9, Z9; VPXORD Z10, Z10, Z10; VPXORD Z11, Z11, Z11; \
	VPXORD Z12, Z12, Z12; VPXORD Z13, Z13, Z13; VPXORD Z14, Z14, Z14; VPXORD Z15, Z15, Z15

// GROUP16 points R12, R13, R14, BX at rows 0, 4, 8, 12 from R8.
#define GROUP16 \
	MOVQ R8, R12; \
	LEAQ (R12)(R9*4), R13; \
	LEAQ (R13)(R9*4), R14; \
	LEAQ (R14)(R9*4), BX

// ADVANCE16(B) moves the four row pointers B bytes along their rows.
#define ADVANCE16(B) \
	ADDQ $B, R12; \
	ADDQ $B, R13; \
	ADDQ $B, R14; \
	ADDQ $B, BX

// The ROWS16 operations: float32 rows with the query chunk in Z18, full
// or under K1; bf16 rows widened through Z19 first.
#define FMA_F32(ADDR, ACC) VFMADD231PS ADDR, Z18, ACC
#define FMA_F32_TAIL(ADDR, ACC) VFMADD231PS ADDR, Z18, K1, ACC
#define FMA_BF16(ADDR, ACC) \
	VPMOVZXWD   ADDR, Z19; \
	VPSLLD      $16, Z19, Z19; \
	VFMADD231PS Z19, Z18, ACC
#define FMA_BF16_TAIL(ADDR, ACC) \
	VMOVDQU16.Z ADDR, K1, Y19; \
	VPMOVZXWD   Y19, Z19; \
	VPSLLD      $16, Z19, Z19; \
	VFMADD231PS Z19, Z18, K1, ACC

// func dotRowsAVX512(out, q, k []float32, ldk int)
//
// Keys four at a time (accumulators Z0-Z3, rows at R12, +R9, +2*R9, +R10),
// then one at a time. Z8 holds 16 query floats; K1 masks the last d%16.
TEXT ·dotRowsAVX512(SB), NOSPLIT, $0-80
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ q_base+24(FP), SI
	MOVQ q_len+32(FP), DX
	MOVQ k_base+48(FP), R8
	MOVQ ldk+72(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
	MOVQ DX, R11
	ANDQ $-16, R11
	MOVQ DX, BX
	ANDQ $15, BX
	LEAQ rowmask16<>(SB), R13
	KMOVW (R13)(BX*2), K1
	JMP  cond16

loop16:
	ZERO16
	GROUP16
	XORQ AX, AX
	JMP  condk16

inner16:
	VMOVUPS (SI)(AX*4), Z18
	ROWS16(FMA_F32)
	ADVANCE16(64)
	ADDQ    $16, AX

condk16:
	CMPQ AX, R11
	JB   inner16
	CMPQ AX, DX
	JAE  reduce16
	VMOVUPS.Z (SI)(AX*4), K1, Z18
	ROWS16(FMA_F32_TAIL)

reduce16:
	REDUCE16
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	LEAQ    (R8)(R9*8), R8
	LEAQ    (R8)(R9*8), R8
	SUBQ    $16, CX

cond16:
	CMPQ CX, $16
	JAE  loop16
	JMP  cond4

loop4:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX
	JMP    condk4

inner4:
	VMOVUPS     (SI)(AX*4), Z8
	LEAQ        (R8)(AX*4), R12
	VFMADD231PS (R12), Z8, Z0
	VFMADD231PS (R12)(R9*1), Z8, Z1
	VFMADD231PS (R12)(R9*2), Z8, Z2
	VFMADD231PS (R12)(R10*1), Z8, Z3
	ADDQ        $16, AX

condk4:
	CMPQ AX, R11
	JB   inner4
	CMPQ AX, DX
	JAE  reduce4
	VMOVUPS.Z   (SI)(AX*4), K1, Z8
	LEAQ        (R8)(AX*4), R12
	VFMADD231PS (R12), Z8, K1, Z0
	VFMADD231PS (R12)(R9*1), Z8, K1, Z1
	VFMADD231PS (R12)(R9*2), Z8, K1, Z2
	VFMADD231PS (R12)(R10*1), Z8, K1, Z3

reduce4:
	HSUM16(Z0, Y0, X0, Y4, X4)
	HSUM16(Z1, Y1, X1, Y5, X5)
	HSUM16(Z2, Y2, X2, Y6, X6)
	HSUM16(Z3, Y3, X3, Y7, X7)
	VMOVSS X0, (DI)
	VMOVSS X1, 4(DI)
	VMOVSS X2, 8(DI)
	VMOVSS X3, 12(DI)
	ADDQ   $16, DI
	LEAQ   (R8)(R9*4), R8
	SUBQ   $4, CX

cond4:
	CMPQ CX, $4
	JAE  loop4
	JMP  cond1

loop1:
	VPXORD Z0, Z0, Z0
	XORQ   AX, AX
	JMP    condk1

inner1:
	VMOVUPS     (SI)(AX*4), Z8
	VFMADD231PS (R8)(AX*4), Z8, Z0
	ADDQ        $16, AX

condk1:
	CMPQ AX, R11
	JB   inner1
	CMPQ AX, DX
	JAE  reduce1
	VMOVUPS.Z   (SI)(AX*4), K1, Z8
	VFMADD231PS (R8)(AX*4), Z8, K1, Z0

reduce1:
	HSUM16(Z0, Y0, X0, Y4, X4)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   CX

cond1:
	TESTQ CX, CX
	JNZ   loop1
	VZEROUPPER
	RET

// MASKOF loads into K the opmask of min(max(BX-OFF, 0), 16) lanes.
// R10 must hold 0. Clobbers R12, R13.
#define MASKOF(OFF, K) \
	MOVQ    BX, R13; \
	SUBQ    $OFF, R13; \
	CMPQ    R13, $0; \
	CMOVQLT R10, R13; \
	MOVQ    $16, R12; \
	CMPQ    R13, R12; \
	CMOVQGT R12, R13; \
	LEAQ    rowmask16<>(SB), R12; \
	KMOVW   (R12)(R13*2), K

// func axpyRowsAVX512(out, p, v []float32, ldv int)
//
// Columns 64 at a time (K1-K4 mask the four vectors of a partial chunk):
// even-j chains in Z0-Z3 start from out, odd-j chains in Z4-Z7 from zero;
// rows j and j+1 sit at R12 and R12+R9.
TEXT ·axpyRowsAVX512(SB), NOSPLIT, $0-80
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
	MOVQ      CX, BX
	SUBQ      AX, BX
	XORQ      R10, R10
	MASKOF(0, K1)
	MASKOF(16, K2)
	MASKOF(32, K3)
	MASKOF(48, K4)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMOVUPS.Z 64(DI)(AX*4), K2, Z1
	VMOVUPS.Z 128(DI)(AX*4), K3, Z2
	VMOVUPS.Z 192(DI)(AX*4), K4, Z3
	VPXORD    Z4, Z4, Z4
	VPXORD    Z5, Z5, Z5
	VPXORD    Z6, Z6, Z6
	VPXORD    Z7, Z7, Z7
	LEAQ      (R8)(AX*4), R12
	JMP       condj

pair:
	VBROADCASTSS (SI)(R10*4), Z8
	VBROADCASTSS 4(SI)(R10*4), Z9
	VFMADD231PS  (R12), Z8, K1, Z0
	VFMADD231PS  64(R12), Z8, K2, Z1
	VFMADD231PS  128(R12), Z8, K3, Z2
	VFMADD231PS  192(R12), Z8, K4, Z3
	VFMADD231PS  (R12)(R9*1), Z9, K1, Z4
	VFMADD231PS  64(R12)(R9*1), Z9, K2, Z5
	VFMADD231PS  128(R12)(R9*1), Z9, K3, Z6
	VFMADD231PS  192(R12)(R9*1), Z9, K4, Z7
	LEAQ         (R12)(R9*2), R12
	ADDQ         $2, R10

condj:
	CMPQ R10, R11
	JB   pair
	CMPQ R10, DX
	JAE  store
	VBROADCASTSS (SI)(R10*4), Z8
	VFMADD231PS  (R12), Z8, K1, Z0
	VFMADD231PS  64(R12), Z8, K2, Z1
	VFMADD231PS  128(R12), Z8, K3, Z2
	VFMADD231PS  192(R12), Z8, K4, Z3

store:
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1
	VADDPS  Z6, Z2, Z2
	VADDPS  Z7, Z3, Z3
	VMOVUPS Z0, K1, (DI)(AX*4)
	VMOVUPS Z1, K2, 64(DI)(AX*4)
	VMOVUPS Z2, K3, 128(DI)(AX*4)
	VMOVUPS Z3, K4, 192(DI)(AX*4)
	ADDQ    $64, AX
	CMPQ    AX, CX
	JB      chunk
	VZEROUPPER
	RET

// WIDEN16(ZR) widens, in place, the 16 bf16 that VPMOVZXWD put in the
// dword lanes of ZR: bf16 is the high half of a float32.
#define WIDEN16(ZR) VPSLLD $16, ZR, ZR

// func dotRowsBF16AVX512(out, q []float32, k []uint16, ldk int)
//
// dotRowsAVX512 with bf16 keys: each 16 keys are zero-extended to dwords
// (VPMOVZXWD) and shifted into float32 bits before the same FMA. The tail
// of a row (K1 lanes) is loaded with VMOVDQU16 under the mask (AVX512BW and
// VL; masked-off words are not read), then widened from the register.
TEXT ·dotRowsBF16AVX512(SB), NOSPLIT, $0-80
	MOVQ out_base+0(FP), DI
	MOVQ out_len+8(FP), CX
	MOVQ q_base+24(FP), SI
	MOVQ q_len+32(FP), DX
	MOVQ k_base+48(FP), R8
	MOVQ ldk+72(FP), R9
	SHLQ $1, R9
	LEAQ (R9)(R9*2), R10
	MOVQ DX, R11
	ANDQ $-16, R11
	MOVQ DX, BX
	ANDQ $15, BX
	LEAQ rowmask16<>(SB), R13
	KMOVW (R13)(BX*2), K1
	JMP  bcond16

bloop16:
	ZERO16
	GROUP16
	XORQ AX, AX
	JMP  bcondk16

binner16:
	VMOVUPS (SI)(AX*4), Z18
	ROWS16(FMA_BF16)
	ADVANCE16(32)
	ADDQ    $16, AX

bcondk16:
	CMPQ AX, R11
	JB   binner16
	CMPQ AX, DX
	JAE  breduce16
	VMOVUPS.Z (SI)(AX*4), K1, Z18
	ROWS16(FMA_BF16_TAIL)

breduce16:
	REDUCE16
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	LEAQ    (R8)(R9*8), R8
	LEAQ    (R8)(R9*8), R8
	SUBQ    $16, CX

bcond16:
	CMPQ CX, $16
	JAE  bloop16
	JMP  bcond4

bloop4:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX
	JMP    bcondk4

binner4:
	VMOVUPS     (SI)(AX*4), Z8
	LEAQ        (R8)(AX*2), R12
	VPMOVZXWD   (R12), Z9
	VPMOVZXWD   (R12)(R9*1), Z10
	VPMOVZXWD   (R12)(R9*2), Z11
	VPMOVZXWD   (R12)(R10*1), Z12
	WIDEN16(Z9)
	WIDEN16(Z10)
	WIDEN16(Z11)
	WIDEN16(Z12)
	VFMADD231PS Z9, Z8, Z0
	VFMADD231PS Z10, Z8, Z1
	VFMADD231PS Z11, Z8, Z2
	VFMADD231PS Z12, Z8, Z3
	ADDQ        $16, AX

bcondk4:
	CMPQ AX, R11
	JB   binner4
	CMPQ AX, DX
	JAE  breduce4
	VMOVUPS.Z   (SI)(AX*4), K1, Z8
	LEAQ        (R8)(AX*2), R12
	VMOVDQU16.Z (R12), K1, Y9
	VMOVDQU16.Z (R12)(R9*1), K1, Y10
	VMOVDQU16.Z (R12)(R9*2), K1, Y11
	VMOVDQU16.Z (R12)(R10*1), K1, Y12
	VPMOVZXWD   Y9, Z9
	VPMOVZXWD   Y10, Z10
	VPMOVZXWD   Y11, Z11
	VPMOVZXWD   Y12, Z12
	WIDEN16(Z9)
	WIDEN16(Z10)
	WIDEN16(Z11)
	WIDEN16(Z12)
	VFMADD231PS Z9, Z8, K1, Z0
	VFMADD231PS Z10, Z8, K1, Z1
	VFMADD231PS Z11, Z8, K1, Z2
	VFMADD231PS Z12, Z8, K1, Z3

breduce4:
	HSUM16(Z0, Y0, X0, Y4, X4)
	HSUM16(Z1, Y1, X1, Y5, X5)
	HSUM16(Z2, Y2, X2, Y6, X6)
	HSUM16(Z3, Y3, X3, Y7, X7)
	VMOVSS X0, (DI)
	VMOVSS X1, 4(DI)
	VMOVSS X2, 8(DI)
	VMOVSS X3, 12(DI)
	ADDQ   $16, DI
	LEAQ   (R8)(R9*4), R8
	SUBQ   $4, CX

bcond4:
	CMPQ CX, $4
	JAE  bloop4
	JMP  bcond1

bloop1:
	VPXORD Z0, Z0, Z0
	XORQ   AX, AX
	JMP    bcondk1

binner1:
	VMOVUPS     (SI)(AX*4), Z8
	VPMOVZXWD   (R8)(AX*2), Z9
	WIDEN16(Z9)
	VFMADD231PS Z9, Z8, Z0
	ADDQ        $16, AX

bcondk1:
	CMPQ AX, R11
	JB   binner1
	CMPQ AX, DX
	JAE  breduce1
	VMOVUPS.Z   (SI)(AX*4), K1, Z8
	VMOVDQU16.Z (R8)(AX*2), K1, Y9
	VPMOVZXWD   Y9, Z9
	WIDEN16(Z9)
	VFMADD231PS Z9, Z8, K1, Z0

breduce1:
	HSUM16(Z0, Y0, X0, Y4, X4)
	VMOVSS X0, (DI)
	ADDQ   $4, DI
	ADDQ   R9, R8
	DECQ   CX

bcond1:
	TESTQ CX, CX
	JNZ   bloop1
	VZEROUPPER
	RET

// LOADBF16(ADDR, MK, YR, ZR) loads under the opmask MK the 16 bf16 at
// ADDR and widens them into the float32 lanes of ZR (YR its low half).
#define LOADBF16(ADDR, MK, YR, ZR) \
	VMOVDQU16.Z ADDR, MK, YR; \
	VPMOVZXWD   YR, ZR; \
	WIDEN16(ZR)

// func axpyRowsBF16AVX512(out, p []float32, v []uint16, ldv int)
//
// axpyRowsAVX512 with bf16 values: the four vectors of a row's chunk are
// loaded under K1-K4 (VMOVDQU16, AVX512BW and VL) and widened (Z10-Z13)
// before the same FMAs.
TEXT ·axpyRowsBF16AVX512(SB), NOSPLIT, $0-80
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

bchunk:
	MOVQ      CX, BX
	SUBQ      AX, BX
	XORQ      R10, R10
	MASKOF(0, K1)
	MASKOF(16, K2)
	MASKOF(32, K3)
	MASKOF(48, K4)
	VMOVUPS.Z (DI)(AX*4), K1, Z0
	VMOVUPS.Z 64(DI)(AX*4), K2, Z1
	VMOVUPS.Z 128(DI)(AX*4), K3, Z2
	VMOVUPS.Z 192(DI)(AX*4), K4, Z3
	VPXORD    Z4, Z4, Z4
	VPXORD    Z5, Z5, Z5
	VPXORD    Z6, Z6, Z6
	VPXORD    Z7, Z7, Z7
	LEAQ      (R8)(AX*2), R12
	JMP       bcondj

bpair:
	VBROADCASTSS (SI)(R10*4), Z8
	VBROADCASTSS 4(SI)(R10*4), Z9
	LOADBF16((R12), K1, Y10, Z10)
	LOADBF16(32(R12), K2, Y11, Z11)
	LOADBF16(64(R12), K3, Y12, Z12)
	LOADBF16(96(R12), K4, Y13, Z13)
	VFMADD231PS  Z10, Z8, K1, Z0
	VFMADD231PS  Z11, Z8, K2, Z1
	VFMADD231PS  Z12, Z8, K3, Z2
	VFMADD231PS  Z13, Z8, K4, Z3
	LOADBF16((R12)(R9*1), K1, Y10, Z10)
	LOADBF16(32(R12)(R9*1), K2, Y11, Z11)
	LOADBF16(64(R12)(R9*1), K3, Y12, Z12)
	LOADBF16(96(R12)(R9*1), K4, Y13, Z13)
	VFMADD231PS  Z10, Z9, K1, Z4
	VFMADD231PS  Z11, Z9, K2, Z5
	VFMADD231PS  Z12, Z9, K3, Z6
	VFMADD231PS  Z13, Z9, K4, Z7
	LEAQ         (R12)(R9*2), R12
	ADDQ         $2, R10

bcondj:
	CMPQ R10, R11
	JB   bpair
	CMPQ R10, DX
	JAE  bstore
	VBROADCASTSS (SI)(R10*4), Z8
	LOADBF16((R12), K1, Y10, Z10)
	LOADBF16(32(R12), K2, Y11, Z11)
	LOADBF16(64(R12), K3, Y12, Z12)
	LOADBF16(96(R12), K4, Y13, Z13)
	VFMADD231PS  Z10, Z8, K1, Z0
	VFMADD231PS  Z11, Z8, K2, Z1
	VFMADD231PS  Z12, Z8, K3, Z2
	VFMADD231PS  Z13, Z8, K4, Z3

bstore:
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1
	VADDPS  Z6, Z2, Z2
	VADDPS  Z7, Z3, Z3
	VMOVUPS Z0, K1, (DI)(AX*4)
	VMOVUPS Z1, K2, 64(DI)(AX*4)
	VMOVUPS Z2, K3, 128(DI)(AX*4)
	VMOVUPS Z3, K4, 192(DI)(AX*4)
	ADDQ    $64, AX
	CMPQ    AX, CX
	JB      bchunk
	VZEROUPPER
	RET
