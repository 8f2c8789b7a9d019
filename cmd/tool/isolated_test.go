package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/tools/python"
)

// TestMain lets this test binary serve --isolated's children, as main does.
func TestMain(m *testing.M) {
	python.ServeChild()
	os.Exit(m.Run())
}

func TestPythonIsolated(t *testing.T) {
	var out bytes.Buffer
	code, err := run([]string{"python", "--isolated"}, strings.NewReader("x = 7\nprint(x**2)\n"), &out)
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, "<result>\n49\n</result>\n", out.String())

	out.Reset()
	code, err = run([]string{"python", "--isolated", "--subprocess"}, strings.NewReader("1"), &out)
	assert.Equal(t, 2, code)
	assert.ErrorContains(t, err, "exclude each other")
}
