// Package backendtest is the conformance suite of backend.Backend: a table of
// cases, each running one op on seeded random inputs of awkward shapes, that
// any backend runs against the CPU backend's results.
//
// A backend package uses it from a test:
//
//	func TestConformance(t *testing.T) { backendtest.Run(t, myBackend) }
//
// Errors are measured as max|got-want| / max|want| over each output (the
// absolute error when want is all zero): scale-free, so one tolerance per op
// fits outputs of any magnitude. The tolerances, set per case, allow for a
// device's own rounding (fused multiply-adds, other exp and sqrt
// approximations, other summation orders), not for wrong formulas:
//
//	1e-6  copy, fill, add, mul, scale, axpy, add_bias, embedding, rope,
//	      swiglu, softmax (one or two roundings per element)
//	1e-5  sum_rows, sum_squares, embedding_backward, rmsnorm, adamw
//	      (short sums; AdamW's p is compared as its update p - p0)
//	1e-4  gemm, rmsnorm_backward, attention, logprobs and their backwards
//	      (long dot products and exponentials)
//	5e-4  attention_backward (gradients of softmax over up to 250 keys)
//
// What this package is not for: checking the CPU backend's formulas (its own
// tests compare it with float64 references and finite differences) or
// timing.
package backendtest

import (
	"fmt"
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/cpu"
)

// Case runs one op on fixed inputs.
type Case struct {
	// Op is the op the case exercises; backends that do not support it skip
	// the case.
	Op backend.Op
	// Name tells cases of one op apart, e.g. "gemm/transA".
	Name string
	// Tol is the largest normalised error accepted per output.
	Tol float64
	// Run uploads the case's inputs to b, runs the op and returns its
	// outputs read back. Inputs come from a fixed seed, so two runs on one
	// backend see the same data.
	Run func(b backend.Backend) (map[string][]float32, error)
}

// Run runs every case whose op b supports, as subtests, against the CPU
// backend with GOMAXPROCS threads.
func Run(t *testing.T, b backend.Backend) {
	t.Helper()
	ref := cpu.New(0)
	for _, c := range Cases() {
		t.Run(c.Name, func(t *testing.T) {
			if !b.Supports(c.Op) {
				t.Skipf("%s does not support %s", b.Name(), c.Op)
			}
			want, err := c.Run(ref)
			if err != nil {
				t.Fatalf("cpu reference: %v", err)
			}
			got, err := c.Run(b)
			if err != nil {
				t.Fatalf("%s: %v", b.Name(), err)
			}
			for name, w := range want {
				g, ok := got[name]
				if !ok {
					t.Errorf("output %s missing", name)
					continue
				}
				if err := Compare(g, w, c.Tol); err != nil {
					t.Errorf("%s on %s: output %s: %v", c.Name, b.Name(), name, err)
				}
			}
		})
	}
}

// Compare returns an error when got differs from want by more than tol in
// normalised error (max|got-want| / max|want|, or the absolute error when
// want is all zero), or when got is not finite where want is.
func Compare(got, want []float32, tol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	var maxErr, maxRef float64
	at := -1
	for i, w := range want {
		g := float64(got[i])
		if math.IsNaN(g) != math.IsNaN(float64(w)) || (math.IsInf(g, 0) && g != float64(w)) {
			return fmt.Errorf("element %d is %v, want %v", i, g, w)
		}
		if math.IsNaN(g) || math.IsInf(g, 0) {
			continue
		}
		if e := math.Abs(g - float64(w)); e > maxErr {
			maxErr, at = e, i
		}
		maxRef = max(maxRef, math.Abs(float64(w)))
	}
	norm := maxErr
	if maxRef > 0 {
		norm /= maxRef
	}
	if norm > tol {
		return fmt.Errorf("normalised error %.3g > %.3g (element %d: %v, want %v)", norm, tol, at, got[at], want[at])
	}
	return nil
}
