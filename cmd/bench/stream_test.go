package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStreamBadInput(t *testing.T) {
	for _, args := range [][]string{{"--mib", "0"}, {"--threads", "0"}, {"--reps", "0"}, {"extra"}} {
		err := runStream(args)
		require.Error(t, err, "%v", args)
		require.Equal(t, 2, exitCode(err), "%v: %v", args, err)
	}
}

func TestStreamLine(t *testing.T) {
	buf := make([]float32, 1<<16)
	r := benchStream(buf, 2, 3, 0)
	require.Equal(t, "stream", r.Suite)
	require.Positive(t, r.GBPerS)
	require.GreaterOrEqual(t, r.GBPerS, r.Median)
}
