package cpu_test

import (
	"fmt"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/require"
)

// The CPU backend against itself: trivially close, but it runs every case of
// the suite, so the suite itself is exercised.
func TestConformance(t *testing.T) {
	backendtest.Run(t, cpu.New(2))
}

// The bf16 KV cache with one thread (a piece per sequence) and three (a
// piece per key/value head of a sequence).
func TestBF16KV(t *testing.T) {
	for _, threads := range []int{1, 3} {
		t.Run(fmt.Sprint(threads), func(t *testing.T) { backendtest.RunBF16KV(t, cpu.New(threads)) })
	}
}

// Every op gives bitwise identical results for 1, 2 and 3 threads: the
// cases' sizes span several of the backend's parallel pieces.
func TestDeterministicAcrossThreads(t *testing.T) {
	backends := []*cpu.CPU{cpu.New(1), cpu.New(2), cpu.New(3)}
	for _, c := range backendtest.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			want, err := c.Run(backends[0])
			require.NoError(t, err)
			for _, b := range backends[1:] {
				got, err := c.Run(b)
				require.NoError(t, err)
				require.Equal(t, want, got, "%d threads", b.Threads())
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	b, err := backend.Open("cpu", backend.Options{Threads: 2})
	require.NoError(t, err)
	require.Contains(t, b.Name(), "2 threads")
	_, err = backend.Open("cpu", backend.Options{Threads: -1})
	require.ErrorContains(t, err, "threads")
}
