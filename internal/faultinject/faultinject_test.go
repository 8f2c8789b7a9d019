package faultinject

import (
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		n    int
		ok   bool
	}{
		{"state-write", "state-write", 1, true},
		{"mid-line:metrics.jsonl@3", "mid-line:metrics.jsonl", 3, true},
		{"x@0", "", 0, false},
		{"x@", "", 0, false},
		{"@2", "", 0, false},
		{"x@two", "", 0, false},
	} {
		name, n, err := parse(c.in)
		assert.Equal(t, c.ok, err == nil, c.in)
		if c.ok {
			assert.Equal(t, c.name, name)
			assert.Equal(t, c.n, n)
		}
	}
}

// TestKillsOnTheNthHit runs this test binary as a child that passes the
// point three times with ARPO_FAULT=p@2: it must die by SIGKILL after the
// first pass, having printed "1" only.
func TestKillsOnTheNthHit(t *testing.T) {
	if os.Getenv("FAULTINJECT_CHILD") == "1" {
		for i := 1; i <= 3; i++ {
			At("other")
			At("p")
			os.Stdout.WriteString([]string{"", "1", "2", "3"}[i])
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillsOnTheNthHit$")
	cmd.Env = append(os.Environ(), "FAULTINJECT_CHILD=1", EnvVar+"=p@2")
	out, err := cmd.Output()
	require.Error(t, err)
	assert.Equal(t, -1, cmd.ProcessState.ExitCode(), "killed by a signal")
	assert.Equal(t, "1", string(out))
}
