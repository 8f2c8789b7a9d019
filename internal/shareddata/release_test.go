package shareddata

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReleaseBinaries: no command links the testing package (which this
// package imports) or any test helper: release binaries carry no test code
// and no test flags (issue 20: cmd/train linked testing through here).
func TestReleaseBinaries(t *testing.T) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "./cmd/...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.NotEmpty(t, deps)
	for _, d := range deps {
		assert.NotEqual(t, "testing", d)
		assert.NotContains(t, d, "testify")
		assert.NotContains(t, d, "internal/shareddata")
		assert.NotContains(t, d, "backendtest")
	}
}
