//go:build !noasm

// AVX-512F variants of the vector and row kernels (AVX512F only: no DQ
// instructions, hence VPXORD for VXORPS); vec_avx512_amd64.go
// declares them with their loops as doc comments. Every kernel runs a vector
// loop of 16 lanes (unrolled 4x where it pays) and finishes the last len%16
// elements under an opmask: masked loads and stores neither read nor write
// outside the slices (AVX-512 suppresses faults on masked-off lanes).

#include "textflag.h"
#include "vec_amd64.h"

// TAILMASK loads into K1 the opmask of the last CX-AX (1..15) elements.
// Clobbers BX, R8.
#define TAILMASK \
	MOVQ  CX, BX; \
	SUBQ  AX, BX; \
	LEAQ  tail16<>(SB), R8; \
	KMOVW (R8)(BX*2), K1

// HSUM16 leaves in the low lane of X the sum of the 16 lanes of Z (Y and X
// are Z's low halves), in a fixed order. Clobbers Y1/X1.
#define HSUM16(Z, Y, X) \
	VEXTRACTF64X4 $1, Z, Y1; \
	VADDPS        Y1, Y, Y; \
	HSUM(Y, X, X1)

#define HMAX16(Z, Y, X) \
	VEXTRACTF64X4 $1, Z, Y1; \
	VMAXPS        Y1, Y, Y; \
	HMAX(Y, X, X1)

// EXPCONSTS loads the constants of EXP into Z16..Z27.
#define EXPCONSTS \
	VBROADCASTSS C_HI, Z16; \
	VBROADCASTSS C_LOG2E, Z17; \
	VBROADCASTSS C_LN2HI, Z18; \
	VBROADCASTSS C_LN2LO, Z19; \
	VBROADCASTSS C_P0, Z20; \
	VBROADCASTSS C_P1, Z21; \
	VBROADCASTSS C_P2, Z22; \
	VBROADCASTSS C_P3, Z23; \
	VBROADCASTSS C_P4, Z24; \
	VBROADCASTSS C_P5, Z25; \
	VBROADCASTSS C_ONE, Z26; \
	VBROADCASTSS C_MIN, Z27

// EXP sets R = exp(X) lane by lane as expPoly in generic.go does; VSCALEFPS
// multiplies by 2^n with one rounding, as expPoly's two exact scalings do,
// and handles overflow and denormals. X is kept; T1, T2 are scratch; K2 is
// clobbered. The min keeps a NaN of X; lanes with X < -88 (NLT_UQ false)
// are zeroed.
#define EXP(X, R, T1, T2) \
	VMINPS       X, Z16, T1; \
	VMULPS       Z17, T1, T2; \
	VRNDSCALEPS  $0, T2, T2; \
	VFNMADD231PS Z18, T2, T1; \
	VFNMADD231PS Z19, T2, T1; \
	VMOVAPS      Z20, R; \
	VFMADD213PS  Z21, T1, R; \
	VFMADD213PS  Z22, T1, R; \
	VFMADD213PS  Z23, T1, R; \
	VFMADD213PS  Z24, T1, R; \
	VFMADD213PS  Z25, T1, R; \
	VFMADD213PS  Z26, T1, R; \
	VFMADD213PS  Z26, T1, R; \
	VSCALEFPS    T2, R, R; \
	VCMPPS       $5, Z27, X, K2; \
	VMOVAPS.Z    R, K2, R

// func dotAVX512(x, y []float32) float32
TEXT ·dotAVX512(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-64, DX
	JMP    cond64

loop64:
	VMOVUPS     (SI)(AX*4), Z4
	VMOVUPS     64(SI)(AX*4), Z5
	VMOVUPS     128(SI)(AX*4), Z6
	VMOVUPS     192(SI)(AX*4), Z7
	VFMADD231PS (DI)(AX*4), Z4, Z0
	VFMADD231PS 64(DI)(AX*4), Z5, Z1
	VFMADD231PS 128(DI)(AX*4), Z6, Z2
	VFMADD231PS 192(DI)(AX*4), Z7, Z3
	ADDQ        $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMOVUPS     (SI)(AX*4), Z4
	VFMADD231PS (DI)(AX*4), Z4, Z0
	ADDQ        $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMOVUPS.Z   (SI)(AX*4), K1, Z4
	VMOVUPS.Z   (DI)(AX*4), K1, Z5
	VFMADD231PS Z5, Z4, Z1

reduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM16(Z0, Y0, X0)
	VZEROUPPER
	MOVSS  X0, ret+48(FP)
	RET

// func sumAVX512(x []float32) float32
TEXT ·sumAVX512(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-64, DX
	JMP    cond64

loop64:
	VADDPS (SI)(AX*4), Z0, Z0
	VADDPS 64(SI)(AX*4), Z1, Z1
	VADDPS 128(SI)(AX*4), Z2, Z2
	VADDPS 192(SI)(AX*4), Z3, Z3
	ADDQ   $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VADDPS (SI)(AX*4), Z0, Z0
	ADDQ   $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z4
	VADDPS    Z4, Z1, Z1

reduce:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	HSUM16(Z0, Y0, X0)
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func axpyAVX512(alpha float32, x, y []float32)
TEXT ·axpyAVX512(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Z14
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JMP          cond64

loop64:
	VMOVUPS     (DI)(AX*4), Z0
	VMOVUPS     64(DI)(AX*4), Z1
	VMOVUPS     128(DI)(AX*4), Z2
	VMOVUPS     192(DI)(AX*4), Z3
	VFMADD231PS (SI)(AX*4), Z14, Z0
	VFMADD231PS 64(SI)(AX*4), Z14, Z1
	VFMADD231PS 128(SI)(AX*4), Z14, Z2
	VFMADD231PS 192(SI)(AX*4), Z14, Z3
	VMOVUPS     Z0, (DI)(AX*4)
	VMOVUPS     Z1, 64(DI)(AX*4)
	VMOVUPS     Z2, 128(DI)(AX*4)
	VMOVUPS     Z3, 192(DI)(AX*4)
	ADDQ        $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMOVUPS     (DI)(AX*4), Z0
	VFMADD231PS (SI)(AX*4), Z14, Z0
	VMOVUPS     Z0, (DI)(AX*4)
	ADDQ        $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z   (DI)(AX*4), K1, Z0
	VMOVUPS.Z   (SI)(AX*4), K1, Z1
	VFMADD231PS Z1, Z14, Z0
	VMOVUPS     Z0, K1, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func scaleAVX512(alpha float32, x []float32)
TEXT ·scaleAVX512(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Z14
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JMP          cond64

loop64:
	VMULPS  (SI)(AX*4), Z14, Z0
	VMULPS  64(SI)(AX*4), Z14, Z1
	VMULPS  128(SI)(AX*4), Z14, Z2
	VMULPS  192(SI)(AX*4), Z14, Z3
	VMOVUPS Z0, (SI)(AX*4)
	VMOVUPS Z1, 64(SI)(AX*4)
	VMOVUPS Z2, 128(SI)(AX*4)
	VMOVUPS Z3, 192(SI)(AX*4)
	ADDQ    $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMULPS  (SI)(AX*4), Z14, Z0
	VMOVUPS Z0, (SI)(AX*4)
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VMULPS    Z0, Z14, Z0
	VMOVUPS   Z0, K1, (SI)(AX*4)

done:
	VZEROUPPER
	RET

// BINARY is the loop of addAVX512 and mulAVX512: dst[i] = a[i] OP b[i]
// with DI = dst, SI = a, R9 = b, CX = len(dst).
#define BINARY(OP) \
	XORQ AX, AX; \
	MOVQ CX, DX; \
	ANDQ $-64, DX; \
	JMP  cond64; \
loop64: \
	VMOVUPS (SI)(AX*4), Z0; \
	VMOVUPS 64(SI)(AX*4), Z1; \
	VMOVUPS 128(SI)(AX*4), Z2; \
	VMOVUPS 192(SI)(AX*4), Z3; \
	OP      (R9)(AX*4), Z0, Z0; \
	OP      64(R9)(AX*4), Z1, Z1; \
	OP      128(R9)(AX*4), Z2, Z2; \
	OP      192(R9)(AX*4), Z3, Z3; \
	VMOVUPS Z0, (DI)(AX*4); \
	VMOVUPS Z1, 64(DI)(AX*4); \
	VMOVUPS Z2, 128(DI)(AX*4); \
	VMOVUPS Z3, 192(DI)(AX*4); \
	ADDQ    $64, AX; \
cond64: \
	CMPQ AX, DX; \
	JB   loop64; \
	MOVQ CX, DX; \
	ANDQ $-16, DX; \
	JMP  cond16; \
loop16: \
	VMOVUPS (SI)(AX*4), Z0; \
	OP      (R9)(AX*4), Z0, Z0; \
	VMOVUPS Z0, (DI)(AX*4); \
	ADDQ    $16, AX; \
cond16: \
	CMPQ AX, DX; \
	JB   loop16; \
	CMPQ AX, CX; \
	JAE  done; \
	TAILMASK; \
	VMOVUPS.Z (SI)(AX*4), K1, Z0; \
	VMOVUPS.Z (R9)(AX*4), K1, Z1; \
	OP        Z1, Z0, Z0; \
	VMOVUPS   Z0, K1, (DI)(AX*4); \
done: \
	VZEROUPPER; \
	RET

// func addAVX512(dst, a, b []float32)
TEXT ·addAVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), R9
	BINARY(VADDPS)

// func mulAVX512(dst, a, b []float32)
TEXT ·mulAVX512(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), R9
	BINARY(VMULPS)

// func maxAVX512(x []float32) float32
// As maxAVX2: running maxima that skip NaN lanes, K3 collects NaN lanes.
TEXT ·maxAVX512(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS C_NEGINF, Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	VMOVAPS      Z0, Z12
	KXORW        K3, K3, K3
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JMP          cond64

loop64:
	VMOVUPS (SI)(AX*4), Z4
	VMOVUPS 64(SI)(AX*4), Z5
	VMOVUPS 128(SI)(AX*4), Z6
	VMOVUPS 192(SI)(AX*4), Z7
	VMAXPS  Z0, Z4, Z0
	VMAXPS  Z1, Z5, Z1
	VMAXPS  Z2, Z6, Z2
	VMAXPS  Z3, Z7, Z3
	VCMPPS  $3, Z5, Z4, K4
	VCMPPS  $3, Z7, Z6, K5
	KORW    K4, K3, K3
	KORW    K5, K3, K3
	ADDQ    $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMOVUPS (SI)(AX*4), Z4
	VMAXPS  Z0, Z4, Z0
	VCMPPS  $3, Z4, Z4, K4
	KORW    K4, K3, K3
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMOVAPS Z12, Z4
	VMOVUPS (SI)(AX*4), K1, Z4
	VMAXPS  Z1, Z4, Z1
	VCMPPS  $3, Z4, Z4, K4
	KORW    K4, K3, K3

reduce:
	VMAXPS   Z1, Z0, Z0
	VMAXPS   Z3, Z2, Z2
	VMAXPS   Z2, Z0, Z0
	HMAX16(Z0, Y0, X0)
	KORTESTW K3, K3
	JZ       ret
	VMOVSS   C_NAN, X0

ret:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func argmaxAVX512(x []float32) int
// As argmaxAVX2: the maximum ignoring NaNs, then the first index holding it.
TEXT ·argmaxAVX512(SB), NOSPLIT, $0-32
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	MOVQ         $-1, R10
	TESTQ        CX, CX
	JZ           done
	VBROADCASTSS C_NEGINF, Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	VMOVAPS      Z0, Z12
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JMP          cond64

loop64:
	VMOVUPS (SI)(AX*4), Z4
	VMOVUPS 64(SI)(AX*4), Z5
	VMOVUPS 128(SI)(AX*4), Z6
	VMOVUPS 192(SI)(AX*4), Z7
	VMAXPS  Z0, Z4, Z0
	VMAXPS  Z1, Z5, Z1
	VMAXPS  Z2, Z6, Z2
	VMAXPS  Z3, Z7, Z3
	ADDQ    $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMOVUPS (SI)(AX*4), Z4
	VMAXPS  Z0, Z4, Z0
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMOVAPS Z12, Z4
	VMOVUPS (SI)(AX*4), K1, Z4
	VMAXPS  Z1, Z4, Z1

reduce:
	VMAXPS       Z1, Z0, Z0
	VMAXPS       Z3, Z2, Z2
	VMAXPS       Z2, Z0, Z0
	HMAX16(Z0, Y0, X0)
	VBROADCASTSS X0, Z0
	XORQ         AX, AX
	JMP          condscan

scan:
	VCMPPS $0, (SI)(AX*4), Z0, K2
	KMOVW  K2, BX
	TESTL  BX, BX
	JNZ    found
	ADDQ   $16, AX

condscan:
	CMPQ AX, DX
	JB   scan
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z4
	VCMPPS    $0, Z4, Z0, K1, K2
	KMOVW     K2, BX
	TESTL     BX, BX
	JZ        done

found:
	BSFL BX, BX
	ADDQ AX, BX
	MOVQ BX, R10

done:
	VZEROUPPER
	MOVQ R10, ret+24(FP)
	RET

// func expAVX512(dst, x []float32)
TEXT ·expAVX512(SB), NOSPLIT, $0-48
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ x_base+24(FP), SI
	EXPCONSTS
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMOVUPS (SI)(AX*4), Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS Z1, (DI)(AX*4)
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS   Z1, K1, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func expSubAVX512(dst, x []float32, m float32) float32
TEXT ·expSubAVX512(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS m+48(FP), Z13
	EXPCONSTS
	VPXORD       Z12, Z12, Z12
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-16, DX
	JMP          cond16

loop16:
	VMOVUPS (SI)(AX*4), Z0
	VSUBPS  Z13, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS Z1, (DI)(AX*4)
	VADDPS  Z1, Z12, Z12
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VSUBPS    Z13, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VMOVUPS   Z1, K1, (DI)(AX*4)
	VADDPS    Z1, Z12, K1, Z12

reduce:
	HSUM16(Z12, Y12, X12)
	VZEROUPPER
	MOVSS X12, ret+56(FP)
	RET

// func expSumsAVX512(x []float32, m float32) (s, sx float32)
TEXT ·expSumsAVX512(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS m+24(FP), Z13
	EXPCONSTS
	VPXORD       Z12, Z12, Z12
	VPXORD       Z11, Z11, Z11
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-16, DX
	JMP          cond16

loop16:
	VMOVUPS     (SI)(AX*4), Z0
	VSUBPS      Z13, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VADDPS      Z1, Z12, Z12
	VFMADD231PS Z0, Z1, Z11
	ADDQ        $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMOVUPS.Z   (SI)(AX*4), K1, Z0
	VSUBPS      Z13, Z0, Z0
	EXP(Z0, Z1, Z2, Z3)
	VADDPS      Z1, Z12, K1, Z12
	VFMADD231PS Z0, Z1, K1, Z11

reduce:
	HSUM16(Z12, Y12, X12)
	HSUM16(Z11, Y11, X11)
	VZEROUPPER
	MOVSS X12, s+32(FP)
	MOVSS X11, sx+36(FP)
	RET

// func addConstAVX512(dst, x []float32, c float32)
TEXT ·addConstAVX512(SB), NOSPLIT, $0-52
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS c+48(FP), Z13
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JMP          cond64

loop64:
	VADDPS  (SI)(AX*4), Z13, Z0
	VADDPS  64(SI)(AX*4), Z13, Z1
	VADDPS  128(SI)(AX*4), Z13, Z2
	VADDPS  192(SI)(AX*4), Z13, Z3
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, 128(DI)(AX*4)
	VMOVUPS Z3, 192(DI)(AX*4)
	ADDQ    $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VADDPS  (SI)(AX*4), Z13, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VADDPS    Z0, Z13, Z0
	VMOVUPS   Z0, K1, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func scaleMulAVX512(dst, x, w []float32, r float32)
TEXT ·scaleMulAVX512(SB), NOSPLIT, $0-76
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         w_base+48(FP), R9
	VBROADCASTSS r+72(FP), Z13
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX
	JMP          cond64

loop64:
	VMULPS  (SI)(AX*4), Z13, Z0
	VMULPS  64(SI)(AX*4), Z13, Z1
	VMULPS  128(SI)(AX*4), Z13, Z2
	VMULPS  192(SI)(AX*4), Z13, Z3
	VMULPS  (R9)(AX*4), Z0, Z0
	VMULPS  64(R9)(AX*4), Z1, Z1
	VMULPS  128(R9)(AX*4), Z2, Z2
	VMULPS  192(R9)(AX*4), Z3, Z3
	VMOVUPS Z0, (DI)(AX*4)
	VMOVUPS Z1, 64(DI)(AX*4)
	VMOVUPS Z2, 128(DI)(AX*4)
	VMOVUPS Z3, 192(DI)(AX*4)
	ADDQ    $64, AX

cond64:
	CMPQ AX, DX
	JB   loop64
	MOVQ CX, DX
	ANDQ $-16, DX
	JMP  cond16

loop16:
	VMULPS  (SI)(AX*4), Z13, Z0
	VMULPS  (R9)(AX*4), Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VMOVUPS.Z (R9)(AX*4), K1, Z1
	VMULPS    Z0, Z13, Z0
	VMULPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func siluAVX512(dst, x []float32)
TEXT ·siluAVX512(SB), NOSPLIT, $0-48
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	EXPCONSTS
	VBROADCASTSS C_SIGN, Z13
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-16, DX
	JMP          cond16

loop16:
	VMOVUPS (SI)(AX*4), Z0
	VPXORD  Z13, Z0, Z4
	EXP(Z4, Z1, Z2, Z3)
	VADDPS  Z26, Z1, Z1
	VDIVPS  Z1, Z0, Z1
	VMOVUPS Z1, (DI)(AX*4)
	ADDQ    $16, AX

cond16:
	CMPQ AX, DX
	JB   loop16
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMOVUPS.Z (SI)(AX*4), K1, Z0
	VPXORD    Z13, Z0, Z4
	EXP(Z4, Z1, Z2, Z3)
	VADDPS    Z26, Z1, Z1
	VDIVPS    Z1, Z0, Z1
	VMOVUPS   Z1, K1, (DI)(AX*4)

done:
	VZEROUPPER
	RET
