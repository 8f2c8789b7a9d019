//go:build vulkan && cgo

package vulkan

import (
	"testing"

	"github.com/goarpo/arpo/backend/backendtest"
)

// TestConformance runs the shared suite: every op against the CPU backend
// on awkward shapes, with views at odd offsets. On a software driver it
// runs twice, so that the GPU kernels (shared-memory gemm) are checked too.
func TestConformance(t *testing.T) {
	b := open(t)
	backendtest.Run(t, b)
	if b.software {
		t.Run("gpu-kernels", func(t *testing.T) {
			b.software = false
			defer func() { b.software = true }()
			backendtest.Run(t, b)
		})
	}
}
