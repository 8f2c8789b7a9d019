package exitcode

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOnPanic runs this test binary again as a "command" that panics under
// OnPanic: it must exit with Panic (3), not Go's 2 that means bad input.
func TestOnPanic(t *testing.T) {
	if os.Getenv("EXITCODE_PANIC") == "1" {
		defer OnPanic("demo")
		var s []int
		_ = s[len(os.Args)+5] // index out of range
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestOnPanic$")
	cmd.Env = append(os.Environ(), "EXITCODE_PANIC=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want an exit error, got %v: %s", err, out)
	assert.Equal(t, Panic, ee.ExitCode(), "%s", out)
	assert.Contains(t, string(out), "demo: internal error (a bug, please report it): runtime error: index out of range")
	assert.Contains(t, string(out), "exitcode_test.go", "the stack names the line")
}
