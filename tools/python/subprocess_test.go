package python

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubprocess(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	s := NewSubprocess()
	s.Timeout = 5 * time.Second
	s.MaxOutput = 200
	ctx := context.Background()

	out, err := s.Call(ctx, "import math\nprint(math.factorial(5))\n2**10")
	require.NoError(t, err)
	assert.Equal(t, "120\n1024\n", out)

	out, err = s.Call(ctx, "print('a')\n1/0")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ZeroDivisionError")
	assert.Contains(t, out, "a\n")

	out, err = s.Call(ctx, "print('x' * 1000)")
	require.NoError(t, err)
	assert.Contains(t, out, "[output truncated")

	s.Timeout = 300 * time.Millisecond
	_, err = s.Call(ctx, "while True: pass")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TimeoutError")

	s.Timeout = 5 * time.Second
	s.MaxMemory = 256 << 20
	_, err = s.Call(ctx, "x = bytearray(2 * 1024**3)")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MemoryError")

	out, err = s.Call(ctx, "import os\nprint(os.getcwd().startswith(os.environ['TMPDIR']))")
	require.NoError(t, err)
	assert.Equal(t, "True\n", out)
}
