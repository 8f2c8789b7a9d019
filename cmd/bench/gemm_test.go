package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGemmSuitePrintsJSONLines(t *testing.T) {
	var buf bytes.Buffer
	defer func(w io.Writer) { out = w }(out)
	out = &buf
	err := suites["gemm"].run([]string{"--shapes", "3x5x7,1x64x16", "--threads", "2", "--trans", "NT", "--warmup", "0", "--reps", "2", "--min-time", "0"})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 2)
	for i, want := range []gemmResult{{Name: "3x5x7", M: 3, N: 5, K: 7}, {Name: "1x64x16", M: 1, N: 64, K: 16}} {
		var got gemmResult
		require.NoError(t, json.Unmarshal([]byte(lines[i]), &got), lines[i])
		require.Equal(t, "gemm", got.Suite)
		require.Equal(t, want.Name, got.Name)
		require.Equal(t, [3]int{want.M, want.N, want.K}, [3]int{got.M, got.N, got.K})
		require.Equal(t, 2, got.Threads)
		require.Equal(t, "NT", got.Trans)
		require.Positive(t, got.GFLOPS)
		require.GreaterOrEqual(t, got.Reps, 2)
	}
}

func TestGemmSuiteRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--shapes", "12x12"},
		{"--shapes", "0x4x4"},
		{"--trans", "NX"},
		{"--no-such-flag"},
	} {
		require.Error(t, suites["gemm"].run(args), "%v", args)
	}
}
