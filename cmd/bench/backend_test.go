package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyArgs are the cheapest valid arguments of each device suite, run in
// the test's process (TestIsolatedLines runs them in child processes).
var tinyArgs = map[string][]string{
	"gemm":    {"--shapes", "2x3x4", "--threads", "1", "--warmup", "0", "--reps", "1", "--min-time", "0"},
	"train":   {"--isolate=false", "--configs", "a", "--threads", "1", "--batch", "1", "--seq", "4", "--steps", "1", "--warmup", "0"},
	"decode":  {"--isolate=false", "--configs", "a", "--threads", "1", "--batch", "1", "--prompt", "2", "--new", "2", "--reps", "1", "--fork-len", "0"},
	"prefill": {"--isolate=false", "--configs", "a", "--threads", "1", "--batch", "1", "--prompt", "3", "--reps", "1"},
	"rl":      {"--isolate=false", "--configs", "a", "--threads", "1", "--batch", "2", "--seq", "6", "--prompt", "2", "--steps", "1", "--warmup", "0"},
}

func TestBackendFlagsRejectBadInput(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"unknown backend", []string{"--backend", "cuda"}, `--backend "cuda": want one of [cpu vulkan]`},
		{"empty backend", []string{"--backend", ""}, `--backend "": want one of`},
		{"negative device", []string{"--device", "-1"}, "--device must be >= 0, got -1"},
		{"device not a number", []string{"--device", "gpu0"}, "--device"},
		{"zero threads", []string{"--threads", "0"}, "--threads 0: want >= 1"},
		{"stray argument", []string{"extra"}, `unexpected arguments ["extra"]`},
		{"profile on the cpu", []string{"--profile"}, "--profile times device ops: it needs --backend vulkan"},
	}
	for suite, base := range tinyArgs {
		for _, c := range cases {
			if suite == "gemm" && c.name == "zero threads" {
				continue // gemm's --threads 0 means 1 and then GOMAXPROCS
			}
			t.Run(suite+"/"+c.name, func(t *testing.T) {
				stdout, _ := capture(t)
				err := suites[suite].run(append(append([]string{}, base...), c.args...))
				require.Error(t, err)
				assert.Equal(t, 2, exitCode(err), "%v", err)
				assert.Contains(t, err.Error(), c.want)
				assert.Empty(t, stdout.String(), "no line before the input is checked")
			})
		}
	}
}

func TestSuitesRejectBadConfigs(t *testing.T) {
	for _, c := range []struct {
		suite string
		args  []string
		want  string
	}{
		{"train", []string{"--configs", "z"}, `unknown config "z"`},
		{"train", []string{"--batch", "0"}, "out of range"},
		{"decode", []string{"--configs", "z"}, `unknown config "z"`},
		{"decode", []string{"--batch", "0"}, "--batch 0: want >= 1"},
		{"decode", []string{"--fork-len", "8", "--fork-config", "z"}, `--fork-config: unknown config "z"`},
		{"prefill", []string{"--configs", "z"}, `unknown config "z"`},
		{"prefill", []string{"--prompt", "0"}, "out of range"},
		{"rl", []string{"--configs", "z"}, `unknown config "z"`},
		{"rl", []string{"--prompt", "6"}, "out of range"},
		{"rl", []string{"--batch", "1"}, "out of range"},
	} {
		capture(t)
		err := suites[c.suite].run(append(append([]string{}, tinyArgs[c.suite]...), c.args...))
		require.Error(t, err, "%s %v", c.suite, c.args)
		assert.Equal(t, 2, exitCode(err), "%v", err)
		assert.Contains(t, err.Error(), c.want)
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	for suite := range tinyArgs {
		_, stderr := capture(t)
		err := suites[suite].run([]string{"--help"})
		require.ErrorIs(t, err, pflag.ErrHelp, suite)
		assert.Contains(t, stderr.String(), "--backend", suite)
		assert.Contains(t, stderr.String(), "--device", suite)
	}
}

func TestExitCode(t *testing.T) {
	assert.Equal(t, 2, exitCode(badInput("bad %d", 1)))
	assert.Equal(t, 1, exitCode(errors.New("run failed")))
}

// Every line of every device suite names its backend.
func TestCPULinesNameTheBackend(t *testing.T) {
	for suite, args := range tinyArgs {
		stdout, _ := capture(t)
		require.NoError(t, suites[suite].run(append(append([]string{}, args...), "--backend", "cpu")), suite)
		for _, line := range lines(stdout) {
			var got struct {
				Suite   string `json:"suite"`
				Threads int    `json:"threads"`
				Backend string `json:"backend"`
			}
			require.NoError(t, json.Unmarshal([]byte(line), &got), line)
			assert.Equal(t, suite, got.Suite)
			assert.Equal(t, 1, got.Threads, line)
			assert.True(t, strings.HasPrefix(got.Backend, "cpu ("), line)
		}
	}
}
