package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := command(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestReadSpecYAMLAndJSON(t *testing.T) {
	dir := t.TempDir()
	y := writeFile(t, dir, "g.yaml", `
name: g1
preset: smoke
flags: {rl-steps: 3, lr: 0.00005, branch-rule: threshold}
algorithms: [arpo, grpo]
variants:
  - {name: arpo-hard, algo: arpo, flags: {attribution: hard, rl-steps: 4}}
seeds: [1, 7]
entropy: {questions: 5}
`)
	s, err := readSpec(y)
	require.NoError(t, err)
	assert.Equal(t, "g1", s.Name)
	assert.Equal(t, 20, s.Entropy.K, "entropy defaults fill the rest")
	cells := s.cells()
	require.Len(t, cells, 6)
	assert.Equal(t, "arpo-s1", cells[0].Name)
	assert.Equal(t, "arpo-hard-s7", cells[5].Name)
	assert.Equal(t, []string{"--preset", "smoke", "--branch-rule", "threshold", "--lr", "5e-05", "--rl-steps", "3",
		"--algo", "grpo", "--seed", "7", "--data-seed", "1"}, cells[3].Args, "every cell shares the SFT seed's data")
	assert.Equal(t, []string{"--preset", "smoke", "--attribution", "hard", "--branch-rule", "threshold", "--lr", "5e-05",
		"--rl-steps", "4", "--algo", "arpo", "--seed", "7", "--data-seed", "1"}, cells[5].Args, "a variant's flags override the common ones")
	assert.Equal(t, []string{"--preset", "smoke", "--branch-rule", "threshold", "--lr", "5e-05", "--rl-steps", "0", "--seed", "1",
		"--data-seed", "1"}, s.sftArgs(), "SFT runs no RL, with the first seed")

	j := writeFile(t, dir, "g.json", `{"algorithms": ["dapo"], "seeds": [3], "data-seed": 9}`)
	s, err = readSpec(j)
	require.NoError(t, err)
	assert.Equal(t, []string{"--algo", "dapo", "--seed", "3", "--data-seed", "9"}, s.cells()[0].Args)
}

func TestBadSpecExitsTwo(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"empty.yaml":     ``,
		"syntax.json":    `{"algorithms": [`,
		"unknown.yaml":   "algorithms: [arpo]\nseeds: [1]\nlearning-rate: 1\n",
		"noarms.yaml":    "seeds: [1]\n",
		"noseeds.yaml":   "algorithms: [arpo]\n",
		"dupseed.yaml":   "algorithms: [arpo]\nseeds: [1, 1]\n",
		"badalgo.yaml":   "algorithms: [ppo]\nseeds: [1]\n",
		"dupalgo.yaml":   "algorithms: [arpo, arpo]\nseeds: [1]\n",
		"reserved.yaml":  "algorithms: [arpo]\nseeds: [1]\nflags: {seed: 3}\n",
		"listflag.yaml":  "algorithms: [arpo]\nseeds: [1]\nflags: {m: [1, 2]}\n",
		"varname.yaml":   "algorithms: [arpo]\nseeds: [1]\nvariants: [{name: 'Bad Name', algo: arpo}]\n",
		"varclash.yaml":  "algorithms: [arpo]\nseeds: [1]\nvariants: [{name: arpo, algo: arpo}]\n",
		"varalgo.yaml":   "seeds: [1]\nvariants: [{name: x, algo: sac}]\n",
		"nomodel.yaml":   "algorithms: [arpo]\nseeds: [1]\nsft: {model: /no/such/checkpoint}\n",
		"noconfig.yaml":  "algorithms: [arpo]\nseeds: [1]\nconfig: /no/such/config.yaml\n",
		"entropy.yaml":   "algorithms: [arpo]\nseeds: [1]\nentropy: {m: -1}\n",
		"negseed.yaml":   "algorithms: [arpo]\nseeds: [-1]\n",
		"wrongtype.yaml": "algorithms: arpo\nseeds: [1]\n",
	} {
		p := writeFile(t, dir, name, text)
		code, _, stderr := runCmd(t, "--spec", p, "--out", filepath.Join(dir, "out-"+name))
		assert.Equal(t, 2, code, "%s: %s", name, stderr)
		assert.Contains(t, stderr, "experiment: spec ", name)
		assert.NoDirExists(t, filepath.Join(dir, "out-"+name), "%s: nothing is made for a bad spec", name)
	}
	for _, args := range [][]string{
		{},
		{"--spec", filepath.Join(dir, "missing.yaml")},
		{"--spec", "x.yaml", "extra"},
		{"--no-such-flag"},
		{"--spec", "x.yaml", "--threads", "-1"},
		{"entropy"},
		{"entropy", "--model", filepath.Join(dir, "missing.safetensors")},
		{"entropy", "--model", "m", "--m", "0"},
	} {
		code, _, stderr := runCmd(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, stderr)
		assert.NotEmpty(t, stderr, "%v", args)
	}
	code, out, _ := runCmd(t, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: experiment --spec FILE")
}

// Every run's flags are checked as a run.Config in this process before
// anything is built or run: an unknown flag or a bad value is bad input.
func TestSpecFlagsCheckedAsRunConfig(t *testing.T) {
	dir := t.TempDir()
	for name, c := range map[string]struct{ text, want string }{
		"unknown.yaml": {"preset: smoke\nflags: {learning-rate: 1}\nalgorithms: [arpo]\nseeds: [1]\n", "sft: unknown flag: --learning-rate"},
		"value.yaml":   {"preset: smoke\nalgorithms: [arpo]\nseeds: [1]\nvariants: [{name: x, algo: grpo, flags: {m: 0}}]\n", "cell x-s1: --m must be >= 1, got 0"},
		"preset.yaml":  {"preset: huge\nalgorithms: [arpo]\nseeds: [1]\n", `sft: --preset: unknown preset "huge"`},
	} {
		out := filepath.Join(dir, "out-"+name)
		code, _, stderr := runCmd(t, "--spec", writeFile(t, dir, name, c.text), "--out", out, "--dry-run")
		assert.Equal(t, 2, code, "%s: %s", name, stderr)
		assert.Contains(t, stderr, c.want, name)
		assert.NoDirExists(t, out, name)
	}
}

// A cell's record matches the cell when its arguments are the same or ask
// for the same run.Config in another form, so that a rerun recognises
// finished cells whatever spelling wrote their records.
func TestSameRunToleratesEquivalentArguments(t *testing.T) {
	a := []string{"--preset", "smoke", "--lr", "0.0001", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/x"}
	for _, b := range [][]string{
		{"--preset", "smoke", "--lr", "0.0001", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/x"},
		{"--preset", "smoke", "--lr", "1e-4", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/x"},
		{"--preset=smoke", "--out", "/x", "--seed", "1", "--algo", "grpo", "--m", "6", "--lr", "1e-04"},
		{"--preset", "smoke", "--lr", "0.0001", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/x", "--n", "2"}, // smoke's n
	} {
		assert.True(t, sameRun(a, b), "%v", b)
	}
	for _, b := range [][]string{
		{"--preset", "smoke", "--lr", "0.0002", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/x"},
		{"--preset", "smoke", "--lr", "0.0001", "--m", "6", "--algo", "grpo", "--seed", "2", "--out", "/x"},
		{"--preset", "quick", "--lr", "0.0001", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/x"},
		{"--preset", "smoke", "--lr", "0.0001", "--m", "6", "--algo", "grpo", "--seed", "1", "--out", "/y"},
		{"--preset", "smoke", "--no-such-flag", "1"},
	} {
		assert.False(t, sameRun(a, b), "%v", b)
	}
}
