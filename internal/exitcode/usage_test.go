package exitcode

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestUsage: a usage error reads as its message, is found through
// wrapping, keeps what it wraps, and nothing else is one.
func TestUsage(t *testing.T) {
	assert.NoError(t, Usage(nil))
	err := Usagef("--m must be >= %d, got %d", 1, 0)
	assert.Equal(t, "--m must be >= 1, got 0", err.Error())
	assert.True(t, IsUsage(err))
	assert.True(t, IsUsage(fmt.Errorf("cell a-s1: %w", err)), "found through wrapping")
	wrapped := Usagef("--config: %w", fs.ErrNotExist)
	assert.True(t, errors.Is(wrapped, fs.ErrNotExist), "what it wraps stays visible")
	assert.True(t, IsUsage(Usage(errors.New("x"))))
	assert.False(t, IsUsage(errors.New("disk full")))
	assert.False(t, IsUsage(nil))
}
