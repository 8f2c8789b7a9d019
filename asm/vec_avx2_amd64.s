//go:build !noasm

// AVX2+FMA variants of the vector and row kernels; vec_amd64.go declares
// them with their loops as doc comments. Every kernel runs a vector loop of
// 8 lanes (unrolled 4x where it pays) and finishes the last len%8 elements
// with VMASKMOVPS, which neither reads nor writes outside the slices.

#include "textflag.h"
#include "vec_amd64.h"

// TAILMASK loads into Y15 the lane mask of the last CX-AX (1..7) elements.
// Clobbers BX, R8.
#define TAILMASK \
	MOVQ CX, BX; \
	SUBQ AX, BX; \
	SHLQ $2, BX; \
	LEAQ tailmask<>+32(SB), R8; \
	SUBQ BX, R8; \
	VMOVUPS (R8), Y15

// EXP sets R = exp(X) lane by lane, step for step as expPoly in generic.go.
// X is kept; T1, T2 are scratch; Y14 must hold C_HI. The min keeps a NaN of
// X (MINPS returns its second source when either is NaN); lanes with
// X < -88 (garbage until then) are cleared at the end.
#define EXP(X, R, T1, T2) \
	VMINPS X, Y14, T1; \
	VMULPS C_LOG2E, T1, T2; \
	VROUNDPS $0, T2, T2; \
	VFNMADD231PS C_LN2HI, T2, T1; \
	VFNMADD231PS C_LN2LO, T2, T1; \
	VMOVUPS C_P0, R; \
	VFMADD213PS C_P1, T1, R; \
	VFMADD213PS C_P2, T1, R; \
	VFMADD213PS C_P3, T1, R; \
	VFMADD213PS C_P4, T1, R; \
	VFMADD213PS C_P5, T1, R; \
	VFMADD213PS C_ONE, T1, R; \
	VFMADD213PS C_ONE, T1, R; \
	VCVTPS2DQ T2, T2; \
	VPSRAD $1, T2, T1; \
	VPSUBD T1, T2, T2; \
	VPADDD C_BIAS, T1, T1; \
	VPSLLD $23, T1, T1; \
	VMULPS T1, R, R; \
	VPADDD C_BIAS, T2, T2; \
	VPSLLD $23, T2, T2; \
	VMULPS T2, R, R; \
	VCMPPS $1, C_MIN, X, T1; \
	VANDNPS R, T1, R

// func dotAVX2(x, y []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JMP    cond32

loop32:
	VMOVUPS     (SI)(AX*4), Y4
	VMOVUPS     32(SI)(AX*4), Y5
	VMOVUPS     64(SI)(AX*4), Y6
	VMOVUPS     96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ        $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VMOVUPS     (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ        $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMASKMOVPS  (SI)(AX*4), Y15, Y4
	VMASKMOVPS  (DI)(AX*4), Y15, Y5
	VFMADD231PS Y5, Y4, Y1

reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	VZEROUPPER
	MOVSS  X0, ret+48(FP)
	RET

// func sumAVX2(x []float32) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JMP    cond32

loop32:
	VADDPS (SI)(AX*4), Y0, Y0
	VADDPS 32(SI)(AX*4), Y1, Y1
	VADDPS 64(SI)(AX*4), Y2, Y2
	VADDPS 96(SI)(AX*4), Y3, Y3
	ADDQ   $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VADDPS (SI)(AX*4), Y0, Y0
	ADDQ   $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y4
	VADDPS     Y4, Y1, Y1

reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	HSUM(Y0, X0, X1)
	VZEROUPPER
	MOVSS  X0, ret+24(FP)
	RET

// func axpyAVX2(alpha float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	VBROADCASTSS alpha+0(FP), Y14
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JMP          cond32

loop32:
	VMOVUPS     (DI)(AX*4), Y0
	VMOVUPS     32(DI)(AX*4), Y1
	VMOVUPS     64(DI)(AX*4), Y2
	VMOVUPS     96(DI)(AX*4), Y3
	VFMADD231PS (SI)(AX*4), Y14, Y0
	VFMADD231PS 32(SI)(AX*4), Y14, Y1
	VFMADD231PS 64(SI)(AX*4), Y14, Y2
	VFMADD231PS 96(SI)(AX*4), Y14, Y3
	VMOVUPS     Y0, (DI)(AX*4)
	VMOVUPS     Y1, 32(DI)(AX*4)
	VMOVUPS     Y2, 64(DI)(AX*4)
	VMOVUPS     Y3, 96(DI)(AX*4)
	ADDQ        $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VMOVUPS     (DI)(AX*4), Y0
	VFMADD231PS (SI)(AX*4), Y14, Y0
	VMOVUPS     Y0, (DI)(AX*4)
	ADDQ        $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS  (DI)(AX*4), Y15, Y0
	VMASKMOVPS  (SI)(AX*4), Y15, Y1
	VFMADD231PS Y1, Y14, Y0
	VMASKMOVPS  Y0, Y15, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func scaleAVX2(alpha float32, x []float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y14
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JMP          cond32

loop32:
	VMULPS  (SI)(AX*4), Y14, Y0
	VMULPS  32(SI)(AX*4), Y14, Y1
	VMULPS  64(SI)(AX*4), Y14, Y2
	VMULPS  96(SI)(AX*4), Y14, Y3
	VMOVUPS Y0, (SI)(AX*4)
	VMOVUPS Y1, 32(SI)(AX*4)
	VMOVUPS Y2, 64(SI)(AX*4)
	VMOVUPS Y3, 96(SI)(AX*4)
	ADDQ    $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VMULPS  (SI)(AX*4), Y14, Y0
	VMOVUPS Y0, (SI)(AX*4)
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	VMULPS     Y0, Y14, Y0
	VMASKMOVPS Y0, Y15, (SI)(AX*4)

done:
	VZEROUPPER
	RET

// BINARY is the body of addAVX2 and mulAVX2: dst[i] = a[i] OP b[i].
// DI = dst, SI = a, R9 = b, CX = len(dst).
#define BINARY(OP) \
	XORQ AX, AX; \
	MOVQ CX, DX; \
	ANDQ $-32, DX; \
	JMP  cond32; \
loop32: \
	VMOVUPS (SI)(AX*4), Y0; \
	VMOVUPS 32(SI)(AX*4), Y1; \
	VMOVUPS 64(SI)(AX*4), Y2; \
	VMOVUPS 96(SI)(AX*4), Y3; \
	OP      (R9)(AX*4), Y0, Y0; \
	OP      32(R9)(AX*4), Y1, Y1; \
	OP      64(R9)(AX*4), Y2, Y2; \
	OP      96(R9)(AX*4), Y3, Y3; \
	VMOVUPS Y0, (DI)(AX*4); \
	VMOVUPS Y1, 32(DI)(AX*4); \
	VMOVUPS Y2, 64(DI)(AX*4); \
	VMOVUPS Y3, 96(DI)(AX*4); \
	ADDQ    $32, AX; \
cond32: \
	CMPQ AX, DX; \
	JB   loop32; \
	MOVQ CX, DX; \
	ANDQ $-8, DX; \
	JMP  cond8; \
loop8: \
	VMOVUPS (SI)(AX*4), Y0; \
	OP      (R9)(AX*4), Y0, Y0; \
	VMOVUPS Y0, (DI)(AX*4); \
	ADDQ    $8, AX; \
cond8: \
	CMPQ AX, DX; \
	JB   loop8; \
	CMPQ AX, CX; \
	JAE  done; \
	TAILMASK; \
	VMASKMOVPS (SI)(AX*4), Y15, Y0; \
	VMASKMOVPS (R9)(AX*4), Y15, Y1; \
	OP         Y1, Y0, Y0; \
	VMASKMOVPS Y0, Y15, (DI)(AX*4); \
done: \
	VZEROUPPER; \
	RET

// func addAVX2(dst, a, b []float32)
TEXT ·addAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), R9
	BINARY(VADDPS)

// func mulAVX2(dst, a, b []float32)
TEXT ·mulAVX2(SB), NOSPLIT, $0-72
	MOVQ dst_base+0(FP), DI
	MOVQ dst_len+8(FP), CX
	MOVQ a_base+24(FP), SI
	MOVQ b_base+48(FP), R9
	BINARY(VMULPS)

// func maxAVX2(x []float32) float32
// Four running maxima ignore NaNs (MAXPS returns its second source, the
// accumulator, when a lane is NaN); Y13 collects the NaN lanes so that one
// NaN anywhere turns the result into NaN.
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS C_NEGINF, Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y2
	VMOVAPS      Y0, Y3
	VMOVAPS      Y0, Y12
	VXORPS       Y13, Y13, Y13
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JMP          cond32

loop32:
	VMOVUPS (SI)(AX*4), Y4
	VMOVUPS 32(SI)(AX*4), Y5
	VMOVUPS 64(SI)(AX*4), Y6
	VMOVUPS 96(SI)(AX*4), Y7
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y5, Y1
	VMAXPS  Y2, Y6, Y2
	VMAXPS  Y3, Y7, Y3
	VCMPPS  $3, Y5, Y4, Y8
	VCMPPS  $3, Y7, Y6, Y9
	VORPS   Y8, Y9, Y8
	VORPS   Y8, Y13, Y13
	ADDQ    $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VMOVUPS (SI)(AX*4), Y4
	VMAXPS  Y0, Y4, Y0
	VCMPPS  $3, Y4, Y4, Y8
	VORPS   Y8, Y13, Y13
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y4
	VBLENDVPS  Y15, Y4, Y12, Y4
	VMAXPS     Y1, Y4, Y1
	VCMPPS     $3, Y4, Y4, Y8
	VORPS      Y8, Y13, Y13

reduce:
	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	HMAX(Y0, X0, X1)
	VPTEST Y13, Y13
	JZ     ret
	VMOVSS C_NAN, X0

ret:
	VZEROUPPER
	MOVSS X0, ret+24(FP)
	RET

// func argmaxAVX2(x []float32) int
// Two passes: the maximum ignoring NaNs, then the first index holding it.
// A row of NaNs has maximum -Inf, which no element equals: the result is -1.
TEXT ·argmaxAVX2(SB), NOSPLIT, $0-32
	MOVQ  x_base+0(FP), SI
	MOVQ  x_len+8(FP), CX
	MOVQ  $-1, R10
	TESTQ CX, CX
	JZ    done
	VBROADCASTSS C_NEGINF, Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y2
	VMOVAPS      Y0, Y3
	VMOVAPS      Y0, Y12
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JMP          cond32

loop32:
	VMOVUPS (SI)(AX*4), Y4
	VMOVUPS 32(SI)(AX*4), Y5
	VMOVUPS 64(SI)(AX*4), Y6
	VMOVUPS 96(SI)(AX*4), Y7
	VMAXPS  Y0, Y4, Y0
	VMAXPS  Y1, Y5, Y1
	VMAXPS  Y2, Y6, Y2
	VMAXPS  Y3, Y7, Y3
	ADDQ    $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VMOVUPS (SI)(AX*4), Y4
	VMAXPS  Y0, Y4, Y0
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y4
	VBLENDVPS  Y15, Y4, Y12, Y4
	VMAXPS     Y1, Y4, Y1

reduce:
	VMAXPS       Y1, Y0, Y0
	VMAXPS       Y3, Y2, Y2
	VMAXPS       Y2, Y0, Y0
	HMAX(Y0, X0, X1)
	VBROADCASTSS X0, Y0
	XORQ         AX, AX
	JMP          condscan

scan:
	VCMPPS    $0, (SI)(AX*4), Y0, Y4
	VMOVMSKPS Y4, BX
	TESTL     BX, BX
	JNZ       found
	ADDQ      $8, AX

condscan:
	CMPQ AX, DX
	JB   scan
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y4
	VCMPPS     $0, Y4, Y0, Y4
	VANDPS     Y15, Y4, Y4
	VMOVMSKPS  Y4, BX
	TESTL      BX, BX
	JZ         done

found:
	BSFL BX, BX
	ADDQ AX, BX
	MOVQ BX, R10

done:
	VZEROUPPER
	MOVQ R10, ret+24(FP)
	RET

// func expAVX2(dst, x []float32)
TEXT ·expAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS C_HI, Y14
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-8, DX
	JMP          cond8

loop8:
	VMOVUPS (SI)(AX*4), Y0
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	EXP(Y0, Y1, Y2, Y3)
	VMASKMOVPS Y1, Y15, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func expSubAVX2(dst, x []float32, m float32) float32
TEXT ·expSubAVX2(SB), NOSPLIT, $0-60
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS m+48(FP), Y13
	VBROADCASTSS C_HI, Y14
	VXORPS       Y12, Y12, Y12
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-8, DX
	JMP          cond8

loop8:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  Y13, Y0, Y0
	EXP(Y0, Y1, Y2, Y3)
	VMOVUPS Y1, (DI)(AX*4)
	VADDPS  Y1, Y12, Y12
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	VSUBPS     Y13, Y0, Y0
	EXP(Y0, Y1, Y2, Y3)
	VANDPS     Y15, Y1, Y1
	VMASKMOVPS Y1, Y15, (DI)(AX*4)
	VADDPS     Y1, Y12, Y12

reduce:
	HSUM(Y12, X12, X1)
	VZEROUPPER
	MOVSS X12, ret+56(FP)
	RET

// func expSumsAVX2(x []float32, m float32) (s, sx float32)
TEXT ·expSumsAVX2(SB), NOSPLIT, $0-40
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS m+24(FP), Y13
	VBROADCASTSS C_HI, Y14
	VXORPS       Y12, Y12, Y12
	VXORPS       Y11, Y11, Y11
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-8, DX
	JMP          cond8

loop8:
	VMOVUPS     (SI)(AX*4), Y0
	VSUBPS      Y13, Y0, Y0
	EXP(Y0, Y1, Y2, Y3)
	VADDPS      Y1, Y12, Y12
	VFMADD231PS Y0, Y1, Y11
	ADDQ        $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  reduce
	TAILMASK
	VMASKMOVPS  (SI)(AX*4), Y15, Y0
	VSUBPS      Y13, Y0, Y0
	EXP(Y0, Y1, Y2, Y3)
	VANDPS      Y15, Y1, Y1
	VANDPS      Y15, Y0, Y0
	VADDPS      Y1, Y12, Y12
	VFMADD231PS Y0, Y1, Y11

reduce:
	HSUM(Y12, X12, X1)
	HSUM(Y11, X11, X1)
	VZEROUPPER
	MOVSS X12, s+32(FP)
	MOVSS X11, sx+36(FP)
	RET

// func addConstAVX2(dst, x []float32, c float32)
TEXT ·addConstAVX2(SB), NOSPLIT, $0-52
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS c+48(FP), Y13
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JMP          cond32

loop32:
	VADDPS  (SI)(AX*4), Y13, Y0
	VADDPS  32(SI)(AX*4), Y13, Y1
	VADDPS  64(SI)(AX*4), Y13, Y2
	VADDPS  96(SI)(AX*4), Y13, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VADDPS  (SI)(AX*4), Y13, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	VADDPS     Y0, Y13, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func scaleMulAVX2(dst, x, w []float32, r float32)
TEXT ·scaleMulAVX2(SB), NOSPLIT, $0-76
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	MOVQ         w_base+48(FP), R9
	VBROADCASTSS r+72(FP), Y13
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JMP          cond32

loop32:
	VMULPS  (SI)(AX*4), Y13, Y0
	VMULPS  32(SI)(AX*4), Y13, Y1
	VMULPS  64(SI)(AX*4), Y13, Y2
	VMULPS  96(SI)(AX*4), Y13, Y3
	VMULPS  (R9)(AX*4), Y0, Y0
	VMULPS  32(R9)(AX*4), Y1, Y1
	VMULPS  64(R9)(AX*4), Y2, Y2
	VMULPS  96(R9)(AX*4), Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX

cond32:
	CMPQ AX, DX
	JB   loop32
	MOVQ CX, DX
	ANDQ $-8, DX
	JMP  cond8

loop8:
	VMULPS  (SI)(AX*4), Y13, Y0
	VMULPS  (R9)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	VMASKMOVPS (R9)(AX*4), Y15, Y1
	VMULPS     Y0, Y13, Y0
	VMULPS     Y1, Y0, Y0
	VMASKMOVPS Y0, Y15, (DI)(AX*4)

done:
	VZEROUPPER
	RET

// func siluAVX2(dst, x []float32)
TEXT ·siluAVX2(SB), NOSPLIT, $0-48
	MOVQ         dst_base+0(FP), DI
	MOVQ         dst_len+8(FP), CX
	MOVQ         x_base+24(FP), SI
	VBROADCASTSS C_HI, Y14
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-8, DX
	JMP          cond8

loop8:
	VMOVUPS (SI)(AX*4), Y0
	VXORPS  C_SIGN, Y0, Y4
	EXP(Y4, Y1, Y2, Y3)
	VADDPS  C_ONE, Y1, Y1
	VDIVPS  Y1, Y0, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ    $8, AX

cond8:
	CMPQ AX, DX
	JB   loop8
	CMPQ AX, CX
	JAE  done
	TAILMASK
	VMASKMOVPS (SI)(AX*4), Y15, Y0
	VXORPS     C_SIGN, Y0, Y4
	EXP(Y4, Y1, Y2, Y3)
	VADDPS     C_ONE, Y1, Y1
	VDIVPS     Y1, Y0, Y1
	VMASKMOVPS Y1, Y15, (DI)(AX*4)

done:
	VZEROUPPER
	RET
