package run

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn/chat"
)

// parse is what cmd/train does with a command line: the flags of a scratch
// Config and --config, then Load.
func parse(t *testing.T, args ...string) (Config, error) {
	t.Helper()
	scratch := Default()
	fs := pflag.NewFlagSet("train", pflag.ContinueOnError)
	scratch.Flags(fs)
	file := fs.String("config", "", "")
	require.NoError(t, fs.Parse(args))
	return Load(*file, fs)
}

func TestConfigFileAndFlagOverride(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "c.yaml")
	require.NoError(t, os.WriteFile(yml, []byte("preset: smoke\nlr: 0.0001\nm: 6\nn: 3\nalgo: grpo\n"), 0o644))
	o, err := parse(t, "--config", yml, "--m", "8")
	require.NoError(t, err)
	assert.Equal(t, "smoke", o.Preset, "the file picks the preset")
	assert.Equal(t, 1e-4, o.LR, "the file sets values")
	assert.Equal(t, 8, o.M, "flags override the file")
	assert.Equal(t, 3, o.N)
	assert.Equal(t, "grpo", o.Algo)
	assert.Equal(t, smokePreset().DModel, o.DModel, "the rest comes from the preset")

	js := filepath.Join(dir, "c.json")
	require.NoError(t, os.WriteFile(js, []byte(`{"rl-steps": 7, "sft-lr": 0.003}`), 0o644))
	o, err = parse(t, "--config", js, "--preset", "smoke")
	require.NoError(t, err)
	assert.Equal(t, 7, o.RLSteps)
	assert.Equal(t, 3e-3, o.SFTLR)
	assert.Equal(t, "smoke", o.Preset)

	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"learning-rate": 1}`), 0o644))
	_, err = parse(t, "--config", bad)
	assert.True(t, exitcode.IsUsage(err), "unknown keys are refused: %v", err)

	o, err = parse(t)
	require.NoError(t, err)
	assert.Equal(t, quickPreset(), o, "no arguments: the quick preset")
}

// --thinking takes auto, on or off; anything else is bad input.
func TestThinkingFlag(t *testing.T) {
	for in, want := range map[string]chat.Thinking{"": chat.ThinkingAuto, "auto": chat.ThinkingAuto, "on": chat.ThinkingOn, "off": chat.ThinkingOff} {
		c := quickPreset()
		c.Thinking = in
		require.NoError(t, c.Validate(), in)
		assert.Equal(t, want, c.thinking(), in)
	}
	c := quickPreset()
	c.Thinking = "maybe"
	err := c.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--thinking")
}

// TestPresetsFitEstimate: every preset passes the size checks here (the
// estimate must not refuse the runs the project documents).
func TestPresetsFitEstimate(t *testing.T) {
	for name, preset := range presets {
		c := preset()
		require.NoError(t, c.checkSizes(), name)
		t.Logf("%s: estimate %.2f GiB", name, c.memoryEstimate(c.modelConfig(c.Vocab), false)/(1<<30))
	}
}
