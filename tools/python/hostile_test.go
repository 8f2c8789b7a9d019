package python

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHostileSizes: every builtin that builds a string or a list refuses a
// result over MaxElems before it allocates it. Each of these one-liners
// killed cmd/train with "fatal error: runtime: out of memory" (issue 20),
// which no recover catches; here each must end in a MemoryError, quickly
// and without the heap growing by more than a few times the limit.
func TestHostileSizes(t *testing.T) {
	const maxElems = 1_000_000
	sb := New(Config{MaxSteps: 5_000_000, Timeout: 20 * time.Second, MaxOutput: 1000, MaxMemory: 1 << 30, MaxElems: maxElems})
	cases := []struct {
		name, code string
		typ        string // the error type when it is not a MemoryError
	}{
		{name: "zfill", code: "'1'.zfill(10**11)"},
		{name: "zfill in print", code: "print('1'.zfill(10**11))"},
		{name: "center", code: "'x'.center(10**12)"},
		{name: "ljust", code: "'x'.ljust(10**12, '*')"},
		{name: "rjust", code: "'x'.rjust(2**62)"},
		{name: "replace", code: "('a'*10**6).replace('a', 'a'*10000)"},
		{name: "replace empty", code: "('a'*10**5).replace('', 'b'*100)"},
		{name: "replace bound", code: "f = ('a'*10**6).replace\nf('a', 'aa')"},
		{name: "replace getattr", code: "getattr('a'*10**6, 'replace')('a', 'aa')"},
		{name: "join", code: "''.join(['a'*10**5] * 100)"},
		{name: "join separator", code: "('x'*10**5).join(['a'] * 100)"},
		{name: "format repeat", code: "('{0}'*100).format('a'*10**5)"},
		{name: "format width", code: "'{:>99999999999}'.format(1)", typ: "ValueError"},
		{name: "fstring width", code: "f'{1:>99999999999}'", typ: "ValueError"},
		{name: "format builtin", code: "format('x', '>99999999999')", typ: "ValueError"},
		{name: "percent literal", code: "'%s%s%s%s%s%s%s%s%s%s%s%s' % tuple(['a'*10**5]*12)"},
		{name: "percent variable", code: "f = '%s' * 100\nf % tuple(['a'*10**5]*100)"},
		{name: "percent assign", code: "s = '%s' * 100\ns %= tuple(['a'*10**5]*100)"},
		{name: "repr of shared list", code: "a = [0] * 10**5\nb = [a] * 10**5\nrepr(b)"},
		{name: "str of shared list", code: "a = [0] * 10**5\nb = [a] * 10**5\ns = str(b)"},
		{name: "print of shared list", code: "a = [0] * 10**5\nb = [a] * 10**5\nprint(b)"},
		{name: "last expression", code: "a = [0] * 10**5\n[a] * 10**5"},
		{name: "dict of shared", code: "a = 'x' * 10**5\nd = {i: a for i in range(100)}\nstr(d)"},
		{name: "list extend", code: "x = [0] * 10**6\nx.extend(x)"},
		{name: "list item repeat", code: "a = [[0]]\na[0] *= 10**9"},
		{name: "str item repeat", code: "a = ['x']\na[0] *= 10**9"},
		{name: "list item concat", code: "a = [[0] * 10**6]\na[0] += a[0]"},
		{name: "int squaring", code: "x = 3\nwhile True:\n    x = x * x"},
		{name: "int squaring assign", code: "x = 7\nwhile True:\n    x *= x"},
		{name: "string mul", code: "'ab' * 10**11"},
		{name: "sum of lists", code: "a = [[0] * 10**5] * 100\nsum(a, [])"},
		{name: "sum of strings", code: "a = ['x' * 10**5] * 100\nsum(a, '')"},
		{name: "tuple mul", code: "(1, 2) * 10**11"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := sb.Run(context.Background(), c.code)
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			want := "MemoryError"
			if c.typ != "" {
				want = c.typ // Python's own message for a huge format width
			}
			assert.Equal(t, want, pe.Type, pe.Error())
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			// Total bytes allocated by the run: small multiples of the
			// limit (16 bytes a list element), never the refused result.
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(400<<20), "allocated during the run")
		})
	}
}

// TestSizesWithinLimits: the checks do not refuse results within the limit,
// and the rewritten methods keep Python's meaning.
func TestSizesWithinLimits(t *testing.T) {
	sb := New(Config{Timeout: 5 * time.Second, MaxElems: 1000})
	cases := []struct{ code, want string }{
		{"print('7'.zfill(3), 'ab'.center(6, '*'), 'x'.ljust(3) + '|', 'x'.rjust(3))", "007 **ab** x  |   x\n"},
		{"print('abab'.replace('a', 'xyz'), 'aaa'.replace('a', 'b', 2), 'ab'.replace('', '-'))", "xyzbxyzb bba -a-b-\n"},
		{"print('-'.join(['a', 'b']), ','.join('xyz'), ''.join([]))", "a-b x,y,z \n"},
		{"f = 'a-b'.replace\nprint(f('-', '+'), getattr('x', 'zfill')(3), getattr('x', 'nope', 5))", "a+b 00x 5\n"},
		{"fmt = '%d-%s'\nprint(fmt % (1, 'a'), 7 % 3, 7.5 % 2)", "1-a 1 1.5\n"},
		{"x = [1]\nx.extend([2, 3])\nx.extend('ab')\nprint(x)", "[1, 2, 3, 'a', 'b']\n"},
		{"a = ['x', 2]\na[0] *= 3\na[1] += 1\nd = {'k': 'a'}\nd['k'] += 'b'\nprint(a, d)", "['xxx', 3] {'k': 'ab'}\n"},
		{"s = '%d'\ns %= 5\nprint(s)", "5\n"},
		{"a = 10**2\n[a]", "[100]\n"},       // ** does not reach into the next statement
		{"print(1)\n(2)**2", "1\n4\n"},      // nor back into the previous one
		{"x = (2\n**\n3)\nprint(x)", "8\n"}, // inside brackets lines join
		{"print(3 * 4, 2**40 * 2**40)", "12 1208925819614629174706176\n"},
		{"print(str([1, 'a']), repr('q'), '{!r:>5}'.format('a'))", "[1, 'a'] 'q'   'a'\n"},
	}
	for _, c := range cases {
		got, err := sb.Run(context.Background(), c.code)
		require.NoError(t, err, c.code)
		assert.Equal(t, c.want, got, c.code)
	}
	_, err := sb.Run(context.Background(), "'x'.center(5, 'ab')")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TypeError")
}
