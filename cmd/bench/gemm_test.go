package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// capture redirects the result lines and the stderr notes for one test.
func capture(t *testing.T) (stdout, stderr *bytes.Buffer) {
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	oldOut, oldLog := out, logOut
	out, logOut = stdout, stderr
	t.Cleanup(func() { out, logOut = oldOut, oldLog })
	return stdout, stderr
}

// lines splits the result lines of a run.
func lines(buf *bytes.Buffer) []string {
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

func TestGemmSuitePrintsJSONLines(t *testing.T) {
	stdout, stderr := capture(t)
	err := suites["gemm"].run([]string{"--shapes", "3x5x7,1x64x16", "--threads", "2", "--trans", "NT", "--warmup", "0", "--reps", "2", "--min-time", "0"})
	require.NoError(t, err)
	ls := lines(stdout)
	require.Len(t, ls, 2)
	for i, want := range []gemmResult{{Name: "3x5x7", M: 3, N: 5, K: 7}, {Name: "1x64x16", M: 1, N: 64, K: 16}} {
		var got gemmResult
		require.NoError(t, json.Unmarshal([]byte(ls[i]), &got), ls[i])
		require.Equal(t, "gemm", got.Suite)
		require.Equal(t, want.Name, got.Name)
		require.Equal(t, [3]int{want.M, want.N, want.K}, [3]int{got.M, got.N, got.K})
		require.Equal(t, 2, got.Threads)
		require.Equal(t, "NT", got.Trans)
		require.Positive(t, got.GFLOPS)
		require.GreaterOrEqual(t, got.Reps, 2)
		require.NotEmpty(t, got.Kernel)
		require.True(t, strings.HasPrefix(got.Backend, "cpu ("), got.Backend)
	}
	require.Empty(t, stderr.String(), "the CPU backend is not announced")
}

func TestGemmSuiteRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"--shapes", "12x12"},
		{"--shapes", "0x4x4"},
		{"--shapes", "4x4x4x"},
		{"--trans", "NX"},
		{"--reps", "0"},
		{"--threads", "-1"},
		{"--no-such-flag"},
		{"--dtype", "f16"},
	} {
		capture(t)
		err := suites["gemm"].run(args)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, exitCode(err), "%v: %v", args, err)
	}
}

func TestGemmSuiteBF16Lines(t *testing.T) {
	stdout, _ := capture(t)
	err := suites["gemm"].run([]string{"--dtype", "bf16", "--shapes", "3x5x7,20x40x33", "--threads", "1", "--trans", "NT", "--warmup", "0", "--reps", "2", "--min-time", "0"})
	require.NoError(t, err)
	ls := lines(stdout)
	require.Len(t, ls, 2)
	for _, l := range ls {
		var got gemmResult
		require.NoError(t, json.Unmarshal([]byte(l), &got), l)
		require.Equal(t, "bf16", got.DType)
		require.Positive(t, got.GFLOPS)
		require.Positive(t, got.F32GF)
		require.Positive(t, got.VsF32GF)
		require.NotEmpty(t, got.Kernel)
	}
	stdout, _ = capture(t)
	require.NoError(t, suites["gemm"].run([]string{"--shapes", "3x5x7", "--threads", "1", "--warmup", "0", "--reps", "1", "--min-time", "0"}))
	var got gemmResult
	require.NoError(t, json.Unmarshal([]byte(lines(stdout)[0]), &got))
	require.Equal(t, "f32", got.DType)
}
