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
	code := run(context.Background(), args, &out, &errb)
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
	cells := s.cells(false)
	require.Len(t, cells, 6)
	assert.Equal(t, "arpo-s1", cells[0].Name)
	assert.Equal(t, "arpo-hard-s7", cells[5].Name)
	assert.Equal(t, []string{"--preset", "smoke", "--branch-rule", "threshold", "--lr", "5e-05", "--rl-steps", "3",
		"--algo", "grpo", "--seed", "7"}, cells[3].Args)
	assert.Equal(t, []string{"--preset", "smoke", "--attribution", "hard", "--branch-rule", "threshold", "--lr", "5e-05",
		"--rl-steps", "4", "--algo", "arpo", "--seed", "7"}, cells[5].Args, "a variant's flags override the common ones")
	assert.Equal(t, []string{"--preset", "smoke", "--branch-rule", "threshold", "--lr", "5e-05", "--rl-steps", "0", "--seed", "1"},
		s.sftArgs(false), "SFT runs no RL, with the first seed")
	withData := s.cells(true)
	assert.Equal(t, []string{"--data-seed", "1"}, withData[3].Args[len(withData[3].Args)-2:],
		"with --data-seed every cell shares the SFT seed's data")

	j := writeFile(t, dir, "g.json", `{"algorithms": ["dapo"], "seeds": [3], "data-seed": 9}`)
	s, err = readSpec(j)
	require.NoError(t, err)
	assert.Equal(t, []string{"--algo", "dapo", "--seed", "3", "--data-seed", "9"}, s.cells(true)[0].Args)
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
