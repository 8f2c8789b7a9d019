package toolworld

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEvalPrint(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"print(4821 * 377)", "1817517"},
		{"print(2025 - 1927)", "98"},
		{" print((8924 + 9137) * 13) ", "234793"},
		{"print(1 + 2 + 3)", "6"},
		{"print(7 // 2)", "3"},
		{"print(-7 // 2)", "-4"}, // floor, as in Python
		{"print(-7 % 3)", "2"},
		{"print(7 % -3)", "-2"},
		{"print(2 - -3)", "5"},
		{"print(10 - 2 * 3)", "4"},
	} {
		got, err := EvalPrint(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	for _, bad := range []string{
		"4 * 3", "print(1 / 0)", "print(1 // 0)", "print(2 ** 3)", "print(x)", "print(1 +)", "print((1)",
		"print(9223372036854775807 + 1)", "print(9999999999 * 9999999999)", "print(99999999999999999999)", "print()",
	} {
		_, err := EvalPrint(bad)
		assert.Error(t, err, bad)
	}
}
