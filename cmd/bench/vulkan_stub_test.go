//go:build !(vulkan && cgo)

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Without the vulkan tag the name is registered but cannot open: every
// device suite says why and exits 2 before printing a line.
func TestVulkanWithoutTagIsUnavailable(t *testing.T) {
	for suite, args := range tinyArgs {
		stdout, _ := capture(t)
		err := suites[suite].run(append(append([]string{}, args...), "--backend", "vulkan"))
		require.Error(t, err, suite)
		assert.Equal(t, 2, exitCode(err), "%v", err)
		assert.True(t, strings.HasPrefix(err.Error(), "--backend vulkan --device 0: "), err.Error())
		assert.Contains(t, err.Error(), "vulkan backend unavailable: built without the vulkan build tag")
		assert.Empty(t, stdout.String())
	}
}
