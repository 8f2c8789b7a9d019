package python

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets this test binary serve Isolated's children.
func TestMain(m *testing.M) {
	ServeChild()
	os.Exit(m.Run())
}

// TestIsolated: calls run in a child process with the sandbox's results;
// a run that gets past the sandbox's checks (here: checks switched off)
// ends only its child, under the address-space limit.
func TestIsolated(t *testing.T) {
	s := NewIsolated(Config{Timeout: 10 * time.Second})
	s.AddressSpace = 1 << 30
	ctx := context.Background()

	out, err := s.Call(ctx, "x = 6\nprint(x * 7)\nx")
	require.NoError(t, err)
	assert.Equal(t, "42\n6\n", out)

	out, err = s.Call(ctx, "print('before')\n1/0")
	var pe *Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "ZeroDivisionError", pe.Type)
	assert.Equal(t, 2, pe.Line)
	assert.Equal(t, "before\n", out)

	// With the size checks off, '1'.zfill(10**10) asks for 10 GB: in
	// process that is "fatal error: out of memory", here a MemoryError.
	off := NewIsolated(Config{Timeout: 10 * time.Second, MaxElems: 1 << 50, MaxMemory: 1 << 50})
	off.AddressSpace = 1 << 30
	_, err = off.Call(ctx, "s = '1'.zfill(10**10)\nprint(len(s))")
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "MemoryError", pe.Type, pe.Error())
	assert.Contains(t, pe.Msg, "the interpreter process ran out of memory (limit 1024 MiB)")
}
