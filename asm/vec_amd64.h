// Constants and macros shared by vec_avx2_amd64.s and vec_avx512_amd64.s.
// Each constant fills 32 bytes (8 lanes) so that AVX2 code can use it as a
// memory operand; AVX-512 code broadcasts lane 0. The exp constants are those
// of expPoly in generic.go, the Go mirror of the vector exp;
// TestHeaderConstants checks that the two agree.

// clamp above ln(MaxFloat32) so that huge x gives +Inf, not a bad exponent
#define C_HI vconst<>+0(SB)
DATA vconst<>+0(SB)/4, $0x42b1999a
DATA vconst<>+4(SB)/4, $0x42b1999a
DATA vconst<>+8(SB)/4, $0x42b1999a
DATA vconst<>+12(SB)/4, $0x42b1999a
DATA vconst<>+16(SB)/4, $0x42b1999a
DATA vconst<>+20(SB)/4, $0x42b1999a
DATA vconst<>+24(SB)/4, $0x42b1999a
DATA vconst<>+28(SB)/4, $0x42b1999a
#define C_LOG2E vconst<>+32(SB)
DATA vconst<>+32(SB)/4, $0x3fb8aa3b
DATA vconst<>+36(SB)/4, $0x3fb8aa3b
DATA vconst<>+40(SB)/4, $0x3fb8aa3b
DATA vconst<>+44(SB)/4, $0x3fb8aa3b
DATA vconst<>+48(SB)/4, $0x3fb8aa3b
DATA vconst<>+52(SB)/4, $0x3fb8aa3b
DATA vconst<>+56(SB)/4, $0x3fb8aa3b
DATA vconst<>+60(SB)/4, $0x3fb8aa3b
// Cody-Waite: ln2 = LN2HI + LN2LO, LN2HI has few bits so n*LN2HI is exact
#define C_LN2HI vconst<>+64(SB)
DATA vconst<>+64(SB)/4, $0x3f318000
DATA vconst<>+68(SB)/4, $0x3f318000
DATA vconst<>+72(SB)/4, $0x3f318000
DATA vconst<>+76(SB)/4, $0x3f318000
DATA vconst<>+80(SB)/4, $0x3f318000
DATA vconst<>+84(SB)/4, $0x3f318000
DATA vconst<>+88(SB)/4, $0x3f318000
DATA vconst<>+92(SB)/4, $0x3f318000
#define C_LN2LO vconst<>+96(SB)
DATA vconst<>+96(SB)/4, $0xb95e8083
DATA vconst<>+100(SB)/4, $0xb95e8083
DATA vconst<>+104(SB)/4, $0xb95e8083
DATA vconst<>+108(SB)/4, $0xb95e8083
DATA vconst<>+112(SB)/4, $0xb95e8083
DATA vconst<>+116(SB)/4, $0xb95e8083
DATA vconst<>+120(SB)/4, $0xb95e8083
DATA vconst<>+124(SB)/4, $0xb95e8083
// exp(r) = ((((((P0 r + P1) r + P2) r + P3) r + P4) r + P5) r + 1) r + 1
#define C_P0 vconst<>+128(SB)
DATA vconst<>+128(SB)/4, $0x39506967
DATA vconst<>+132(SB)/4, $0x39506967
DATA vconst<>+136(SB)/4, $0x39506967
DATA vconst<>+140(SB)/4, $0x39506967
DATA vconst<>+144(SB)/4, $0x39506967
DATA vconst<>+148(SB)/4, $0x39506967
DATA vconst<>+152(SB)/4, $0x39506967
DATA vconst<>+156(SB)/4, $0x39506967
#define C_P1 vconst<>+160(SB)
DATA vconst<>+160(SB)/4, $0x3ab743ce
DATA vconst<>+164(SB)/4, $0x3ab743ce
DATA vconst<>+168(SB)/4, $0x3ab743ce
DATA vconst<>+172(SB)/4, $0x3ab743ce
DATA vconst<>+176(SB)/4, $0x3ab743ce
DATA vconst<>+180(SB)/4, $0x3ab743ce
DATA vconst<>+184(SB)/4, $0x3ab743ce
DATA vconst<>+188(SB)/4, $0x3ab743ce
#define C_P2 vconst<>+192(SB)
DATA vconst<>+192(SB)/4, $0x3c088908
DATA vconst<>+196(SB)/4, $0x3c088908
DATA vconst<>+200(SB)/4, $0x3c088908
DATA vconst<>+204(SB)/4, $0x3c088908
DATA vconst<>+208(SB)/4, $0x3c088908
DATA vconst<>+212(SB)/4, $0x3c088908
DATA vconst<>+216(SB)/4, $0x3c088908
DATA vconst<>+220(SB)/4, $0x3c088908
#define C_P3 vconst<>+224(SB)
DATA vconst<>+224(SB)/4, $0x3d2aa9c1
DATA vconst<>+228(SB)/4, $0x3d2aa9c1
DATA vconst<>+232(SB)/4, $0x3d2aa9c1
DATA vconst<>+236(SB)/4, $0x3d2aa9c1
DATA vconst<>+240(SB)/4, $0x3d2aa9c1
DATA vconst<>+244(SB)/4, $0x3d2aa9c1
DATA vconst<>+248(SB)/4, $0x3d2aa9c1
DATA vconst<>+252(SB)/4, $0x3d2aa9c1
#define C_P4 vconst<>+256(SB)
DATA vconst<>+256(SB)/4, $0x3e2aaaaa
DATA vconst<>+260(SB)/4, $0x3e2aaaaa
DATA vconst<>+264(SB)/4, $0x3e2aaaaa
DATA vconst<>+268(SB)/4, $0x3e2aaaaa
DATA vconst<>+272(SB)/4, $0x3e2aaaaa
DATA vconst<>+276(SB)/4, $0x3e2aaaaa
DATA vconst<>+280(SB)/4, $0x3e2aaaaa
DATA vconst<>+284(SB)/4, $0x3e2aaaaa
#define C_P5 vconst<>+288(SB)
DATA vconst<>+288(SB)/4, $0x3f000000
DATA vconst<>+292(SB)/4, $0x3f000000
DATA vconst<>+296(SB)/4, $0x3f000000
DATA vconst<>+300(SB)/4, $0x3f000000
DATA vconst<>+304(SB)/4, $0x3f000000
DATA vconst<>+308(SB)/4, $0x3f000000
DATA vconst<>+312(SB)/4, $0x3f000000
DATA vconst<>+316(SB)/4, $0x3f000000
#define C_ONE vconst<>+320(SB)
DATA vconst<>+320(SB)/4, $0x3f800000
DATA vconst<>+324(SB)/4, $0x3f800000
DATA vconst<>+328(SB)/4, $0x3f800000
DATA vconst<>+332(SB)/4, $0x3f800000
DATA vconst<>+336(SB)/4, $0x3f800000
DATA vconst<>+340(SB)/4, $0x3f800000
DATA vconst<>+344(SB)/4, $0x3f800000
DATA vconst<>+348(SB)/4, $0x3f800000
// exp(x) for x < MIN flushes to 0
#define C_MIN vconst<>+352(SB)
DATA vconst<>+352(SB)/4, $0xc2b00000
DATA vconst<>+356(SB)/4, $0xc2b00000
DATA vconst<>+360(SB)/4, $0xc2b00000
DATA vconst<>+364(SB)/4, $0xc2b00000
DATA vconst<>+368(SB)/4, $0xc2b00000
DATA vconst<>+372(SB)/4, $0xc2b00000
DATA vconst<>+376(SB)/4, $0xc2b00000
DATA vconst<>+380(SB)/4, $0xc2b00000
// float32 exponent bias (int32 lanes)
#define C_BIAS vconst<>+384(SB)
DATA vconst<>+384(SB)/4, $0x0000007f
DATA vconst<>+388(SB)/4, $0x0000007f
DATA vconst<>+392(SB)/4, $0x0000007f
DATA vconst<>+396(SB)/4, $0x0000007f
DATA vconst<>+400(SB)/4, $0x0000007f
DATA vconst<>+404(SB)/4, $0x0000007f
DATA vconst<>+408(SB)/4, $0x0000007f
DATA vconst<>+412(SB)/4, $0x0000007f
#define C_SIGN vconst<>+416(SB)
DATA vconst<>+416(SB)/4, $0x80000000
DATA vconst<>+420(SB)/4, $0x80000000
DATA vconst<>+424(SB)/4, $0x80000000
DATA vconst<>+428(SB)/4, $0x80000000
DATA vconst<>+432(SB)/4, $0x80000000
DATA vconst<>+436(SB)/4, $0x80000000
DATA vconst<>+440(SB)/4, $0x80000000
DATA vconst<>+444(SB)/4, $0x80000000
#define C_NEGINF vconst<>+448(SB)
DATA vconst<>+448(SB)/4, $0xff800000
DATA vconst<>+452(SB)/4, $0xff800000
DATA vconst<>+456(SB)/4, $0xff800000
DATA vconst<>+460(SB)/4, $0xff800000
DATA vconst<>+464(SB)/4, $0xff800000
DATA vconst<>+468(SB)/4, $0xff800000
DATA vconst<>+472(SB)/4, $0xff800000
DATA vconst<>+476(SB)/4, $0xff800000
#define C_NAN vconst<>+480(SB)
DATA vconst<>+480(SB)/4, $0x7fc00000
DATA vconst<>+484(SB)/4, $0x7fc00000
DATA vconst<>+488(SB)/4, $0x7fc00000
DATA vconst<>+492(SB)/4, $0x7fc00000
DATA vconst<>+496(SB)/4, $0x7fc00000
DATA vconst<>+500(SB)/4, $0x7fc00000
DATA vconst<>+504(SB)/4, $0x7fc00000
DATA vconst<>+508(SB)/4, $0x7fc00000
GLOBL vconst<>(SB), RODATA|NOPTR, $512

// HSUM leaves in the low lane of X the sum of the 8 lanes of Y (X is Y's low
// half), in a fixed order. Clobbers T.
#define HSUM(Y, X, T) \
	VEXTRACTF128 $1, Y, T; \
	VADDPS T, X, X; \
	VMOVHLPS X, X, T; \
	VADDPS T, X, X; \
	VMOVSHDUP X, T; \
	VADDSS T, X, X

// HMAX is HSUM with max.
#define HMAX(Y, X, T) \
	VEXTRACTF128 $1, Y, T; \
	VMAXPS T, X, X; \
	VMOVHLPS X, X, T; \
	VMAXPS T, X, X; \
	VMOVSHDUP X, T; \
	VMAXSS T, X, X

// tailmask<>+32-4*r (r = 0..8) holds 8 int32 lanes whose first r are all ones:
// the AVX2 mask for the last r < 8 elements of a row (VMASKMOVPS).
DATA tailmask<>+0(SB)/4, $0xffffffff
DATA tailmask<>+4(SB)/4, $0xffffffff
DATA tailmask<>+8(SB)/4, $0xffffffff
DATA tailmask<>+12(SB)/4, $0xffffffff
DATA tailmask<>+16(SB)/4, $0xffffffff
DATA tailmask<>+20(SB)/4, $0xffffffff
DATA tailmask<>+24(SB)/4, $0xffffffff
DATA tailmask<>+28(SB)/4, $0xffffffff
DATA tailmask<>+32(SB)/4, $0x00000000
DATA tailmask<>+36(SB)/4, $0x00000000
DATA tailmask<>+40(SB)/4, $0x00000000
DATA tailmask<>+44(SB)/4, $0x00000000
DATA tailmask<>+48(SB)/4, $0x00000000
DATA tailmask<>+52(SB)/4, $0x00000000
DATA tailmask<>+56(SB)/4, $0x00000000
DATA tailmask<>+60(SB)/4, $0x00000000
GLOBL tailmask<>(SB), RODATA|NOPTR, $64

// tail16<>+2*r holds (1<<r)-1: the AVX-512 opmask for the last r < 16 elements.
DATA tail16<>+0(SB)/2, $0x0000
DATA tail16<>+2(SB)/2, $0x0001
DATA tail16<>+4(SB)/2, $0x0003
DATA tail16<>+6(SB)/2, $0x0007
DATA tail16<>+8(SB)/2, $0x000f
DATA tail16<>+10(SB)/2, $0x001f
DATA tail16<>+12(SB)/2, $0x003f
DATA tail16<>+14(SB)/2, $0x007f
DATA tail16<>+16(SB)/2, $0x00ff
DATA tail16<>+18(SB)/2, $0x01ff
DATA tail16<>+20(SB)/2, $0x03ff
DATA tail16<>+22(SB)/2, $0x07ff
DATA tail16<>+24(SB)/2, $0x0fff
DATA tail16<>+26(SB)/2, $0x1fff
DATA tail16<>+28(SB)/2, $0x3fff
DATA tail16<>+30(SB)/2, $0x7fff
GLOBL tail16<>(SB), RODATA|NOPTR, $32
