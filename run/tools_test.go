package run

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/tools/python"
)

// TestMain lets this test binary serve the children of --tool-isolation
// process (python.Isolated starts the running executable again).
func TestMain(m *testing.M) {
	python.ServeChild()
	os.Exit(m.Run())
}

// TestToolIsolationProcess: with --tool-isolation process the task's
// Python tool runs each call in a child process; a hostile program comes
// back as a tool error and the tools go on answering.
func TestToolIsolationProcess(t *testing.T) {
	c := smokePreset()
	c.TrainQuestions, c.TestQuestions = 20, 5 // each checked demonstration's Python call starts a process
	c.ToolIsolation = "process"
	require.NoError(t, c.Validate())
	ctx := context.Background()
	td, err := loadTask(ctx, c) // checks the demonstrations with the real, isolated tools
	require.NoError(t, err)
	for _, code := range []string{
		"x = 'a'*10**10\nprint(len(x))",
		"print('1'.zfill(10**11))",
		"s = ('a'*10**7).replace('a', 'a'*10000)",
	} {
		r := td.exec.Do(ctx, "python", code)
		require.Error(t, r.Err, code)
		assert.NotContains(t, r.Err.Error(), "child process failed", "a Python error, not a dead child: %v", r.Err)
	}
	r := td.exec.Do(ctx, "python", "print(6 * 7)")
	require.NoError(t, r.Err)
	assert.Equal(t, "42", strings.TrimSpace(r.Output), "the tools go on after hostile calls")

	c.ToolIsolation = "container"
	err = c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--tool-isolation: want none or process")
}
