//go:build vulkan && cgo

package vulkan

import (
	"errors"
	"strings"
	"testing"
)

// open returns a backend on device 0, skipping the test when the machine
// has no libvulkan or no device. At cleanup it closes the backend and fails
// the test on any validation-layer message the test caused.
func open(t *testing.T) *Backend {
	t.Helper()
	before := len(ValidationMessages())
	b, err := Open(0)
	if errors.Is(err, ErrNoVulkan) || errors.Is(err, ErrNoDevice) {
		t.Skipf("vulkan backend unavailable: %v", err)
	}
	if err != nil {
		t.Fatalf("open vulkan device 0: %v", err)
	}
	t.Logf("device: %s", b.Name())
	t.Cleanup(func() {
		b.Close()
		if msgs := ValidationMessages()[before:]; len(msgs) > 0 {
			t.Errorf("%d validation messages:\n%s", len(msgs), strings.Join(msgs, "\n"))
		}
	})
	return b
}
