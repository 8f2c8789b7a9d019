//go:build !(vulkan && cgo)

package vulkan

import (
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

func TestStubReportsUnavailable(t *testing.T) {
	_, err := backend.Open("vulkan", backend.Options{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "vulkan backend unavailable")
}
