package runconfig

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/goarpo/arpo/tools/python"
)

// TestPythonIsolation: none ("" too) is the in-process sandbox, process the
// child-process one; anything else is refused.
func TestPythonIsolation(t *testing.T) {
	for _, s := range []string{"", IsolationNone} {
		assert.NoError(t, CheckIsolation(s))
		assert.IsType(t, &python.Sandbox{}, Python(s), s)
	}
	assert.NoError(t, CheckIsolation(IsolationProcess))
	assert.IsType(t, &python.Isolated{}, Python(IsolationProcess))
	assert.Error(t, CheckIsolation("Process"))
	_, _, err := ToolSpec{Task: "file", SearchTopK: 1, MaxResult: 1, Isolation: "jail"}.Build("")
	assert.ErrorContains(t, err, "isolation")
}
