package tasks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePythonList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`['Paris']`, []string{"Paris"}},
		{`['a', "b's", 'c\'d']`, []string{"a", "b's", "c'd"}},
		{`[ 'x' , 3, True ]`, []string{"x", "3", "True"}},
		{`('t1', 't2',)`, []string{"t1", "t2"}},
		{`[]`, []string{}},
		{`['caf\xe9', '\u00e9t\u00e9', 'back\\slash']`, []string{"café", "été", `back\slash`}},
	} {
		got, err := ParsePythonList(c.in)
		require.NoError(t, err, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
	for _, bad := range []string{`['open`, `['a' 'b']`, `['a'] x`, `'a'`, `[,]`, `['\x4']`} {
		_, err := ParsePythonList(bad)
		assert.Error(t, err, bad)
	}
}

func TestGSM8KAnswer(t *testing.T) {
	a, r, ok := GSM8KAnswer("She makes 9 * 2 = $18.\n#### 1,018")
	require.True(t, ok)
	assert.Equal(t, "1,018", a)
	assert.Equal(t, "She makes 9 * 2 = $18.", r)
	_, _, ok = GSM8KAnswer("no marker")
	assert.False(t, ok)
}
