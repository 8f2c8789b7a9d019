package exitcode

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

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

// TestSecondSignalQuits: after the first SIGTERM cancels the context, a
// command that is slow to stop (a large ToolWorld being built) still ends
// at the second signal (issue 20: SIGTERM and repeated Ctrl-C ignored).
func TestSecondSignalQuits(t *testing.T) {
	if os.Getenv("EXITCODE_SIGNALS") == "1" {
		ctx, stop := SignalContext("demo", os.Stderr)
		defer stop()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("cancelled")
		select {} // never stops by itself
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalQuits$")
	cmd.Env = append(os.Environ(), "EXITCODE_SIGNALS=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	lines := bufio.NewScanner(stdout)
	wait := func(want string) {
		for lines.Scan() {
			if lines.Text() == want {
				return
			}
		}
		t.Fatalf("the child never printed %q; stderr: %s", want, stderr.String())
	}
	wait("ready")
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	wait("cancelled")
	go func() { done <- cmd.Wait() }()
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case err := <-done:
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		ws := ee.Sys().(syscall.WaitStatus)
		assert.True(t, ws.Signaled() && ws.Signal() == os.Interrupt, "ended by the second signal: %v", err)
		assert.Contains(t, stderr.String(), "demo: terminated: stopping at the next safe point")
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the second signal did not end the process")
	}
}
