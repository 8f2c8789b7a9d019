package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/rl"
	"github.com/goarpo/arpo/run"
)

// runState is state.json as these binary-level tests read it: the file's
// format, independent of package run's types.
type runState struct {
	Phase      string         `json:"phase"`
	SFTStep    int            `json:"sft_step"`
	RLStep     int            `json:"rl_step"`
	DeltaH     rl.DeltaHStats `json:"delta_h"`
	Config     string         `json:"config_sha256"`
	Checkpoint string         `json:"checkpoint_sha256"`
	Tokenizer  string         `json:"tokenizer_sha256"`
	SFT        string         `json:"sft_sha256,omitempty"`
}

// metricsLine is one line of metrics.jsonl.
type metricsLine = run.MetricsLine

func readState(t *testing.T, path string) runState {
	t.Helper()
	var st runState
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &st))
	return st
}

func fileSHA256(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readConfigKey is one string value of a run folder's config.json.
func readConfigKey(t *testing.T, dir, key string) string {
	t.Helper()
	var m map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &m))
	s, _ := m[key].(string)
	return s
}
