package python

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func run(t *testing.T, code string) (string, error) {
	t.Helper()
	return New(Config{Timeout: 5 * time.Second}).Run(context.Background(), code)
}

// TestMathPython: what math-solving models write runs and prints what real
// Python prints (outputs checked against python3 by hand).
func TestMathPython(t *testing.T) {
	cases := []struct{ name, code, want string }{
		{"power", "print(2**10, 2**-1, (-2)**3, -2**2, 2**3**2)", "1024 0.5 -8 -4 512\n"},
		{"power attr", "import math\nx = [3]\nprint(x[0]**2 + math.sqrt(16)**2)", "25.0\n"},
		{"big int", "print(2**100)\nprint(3**50 % 1000)", "1267650600228229401496703205376\n249\n"},
		{"pow mod", "print(pow(3, 200, 1000), pow(2, -1, 7))", "1 4\n"},
		{"import math", "import math\nprint(math.factorial(20), math.gcd(12, 18), math.comb(10, 3), math.isqrt(99))", "2432902008176640000 6 120 9\n"},
		{"from math", "from math import sqrt, pi as PI\nprint(round(sqrt(2), 4), round(PI, 2))", "1.4142 3.14\n"},
		{"math floats", "import math\nprint(math.floor(2.7), math.ceil(2.1), math.log(8, 2), math.log10(1000))", "2 3 3.0 3.0\n"},
		{"fstring", "x = 3.14159\nn = 42\nprint(f\"x={x:.2f} n={n:5d}|{n:<4}|{'s'!r} {n*2}\")", "x=3.14 n=   42|42  |'s' 84\n"},
		{"fstring debug", "a = 5\nprint(f'{a=}, {a**2=}')", "a=5, a**2=25\n"},
		{"fstring nested spec", "w = 6\nprint(f'[{3.5:>{w}}]')", "[   3.5]\n"},
		{"fstring thousands", "print(f'{1234567:,}', f'{0.256:.1%}', f'{255:#x}', f'{1e-7:.2e}')", "1,234,567 25.6% 0xff 1.00e-07\n"},
		{"while", "i, s = 0, 0\nwhile i < 10:\n    i += 1\n    if i % 2: continue\n    s += i\nprint(s)", "30\n"},
		{"recursion", "def fib(n):\n    return n if n < 2 else fib(n-1) + fib(n-2)\nprint(fib(20))", "6765\n"},
		{"memo", "from functools import lru_cache\n@lru_cache(maxsize=None)\ndef f(n):\n    return 1 if n < 2 else f(n-1) + f(n-2)\nprint(f(200))", "453973694165307953197296969697410619233826\n"},
		{"comprehensions", "print([x*x for x in range(5) if x % 2 == 0], {k: k*2 for k in 'ab'})", "[0, 4, 16] {'a': 'aa', 'b': 'bb'}\n"},
		{"generator", "print(sum(x**2 for x in range(1, 11)), max(len(w) for w in ['a', 'abc']))", "385 3\n"},
		{"digits", "n = 2**15\nprint(sum(int(d) for d in str(n)), list(str(12)), sorted('cba'))", "26 ['1', '2'] ['a', 'b', 'c']\n"},
		{"print args", "print('a', 1, 2.5, None, True, [1, 'x'], (1,), sep='-', end='!\\n')", "a-1-2.5-None-True-[1, 'x']-(1,)!\n"},
		{"floats", "print(7/2, 6/2, 1/3, 1e16, 1e-5, 0.1+0.2, 10//3, -7//2, 7 % -3)", "3.5 3.0 0.3333333333333333 1e+16 1e-05 0.30000000000000004 3 -4 -2\n"},
		{"last expr", "x = 6\nx * 7", "42\n"},
		{"last expr string", "'abc'", "'abc'\n"},
		{"last expr none", "def f():\n    pass\nf()", ""},
		{"sets", "s = {1, 2, 3}\ns.add(2)\nprint(len(s), {x % 3 for x in range(10)}, set())", "3 {0, 1, 2} set()\n"},
		{"is none", "x = None\nprint(x is None, x is not None)", "True False\n"},
		{"divmod round", "print(divmod(17, 5), round(2.5), round(3.5), round(2.675, 2), round(1234, -2))", "(3, 2) 2 4 2.67 1200\n"},
		{"format method", "print('{} + {:.3f} = {x}'.format(1, 2, x='three'), '{:>5}|'.format('ab'))", "1 + 2.000 = three    ab|\n"},
		{"percent", "print('%d items, %.2f%%, %5s|%-3d|' % (3, 12.345, 'ab', 7))", "3 items, 12.35%,    ab|7  |\n"},
		{"list += in place", "a = [1]\nb = a\na += [2]\nc = a + [3]\nprint(a, b, c, (1,) + (2,), 'a' + 'b', 1 + 2.5)", "[1, 2] [1, 2] [1, 2, 3] (1, 2) ab 3.5\n"},
		{"list methods", "a = [3, 1, 2, 3]\na.sort(reverse=True)\nprint(a, a.count(3))\na.reverse()\nprint(a, 'x'.zfill(3))", "[3, 3, 2, 1] 2\n[1, 2, 3, 3] 00x\n"},
		{"itertools", "from itertools import permutations, combinations, product\nprint(len(permutations(range(5))), list(combinations('abc', 2))[0], len(product([0, 1], repeat=3)))", "120 ('a', 'b') 8\n"},
		{"isinstance map filter", "print(isinstance(3, int), isinstance(3.0, int), isinstance('a', str), list(map(int, '123')), list(filter(None, [0, 1, 2])))", "True False True [1, 2, 3] [1, 2]\n"},
		{"underscores hex bin", "print(1_000_000, hex(255), bin(5), int('ff', 16))", "1000000 0xff 0b101 255\n"},
		{"lambda sort", "pts = [(1, 'b'), (0, 'a')]\nprint(sorted(pts, key=lambda p: p[1]))", "[(0, 'a'), (1, 'b')]\n"},
		{"semicolons", "a = 1; b = 2; print(a + b)", "3\n"},
		{"string ops", "s = 'Hello World'\nprint(s.lower().split(), s[::-1], s.count('o'), 'x' * 3)", "['hello', 'world'] dlroW olleH 2 xxx\n"},
		{"exit", "print(1)\nexit()\nprint(2)", "1\n"},
		{"table claims", "from math import *\nimport sys\nprint(sorted(set('aab')), round(log(10**400, 10)), chr(65), ord('a'), isqrt(17))\nsys.exit()\nprint('not reached')", "['a', 'b'] 400 A 97 4\n"},
		{"functools decorator", "import functools\n@functools.lru_cache(maxsize=None)\ndef c(n, k):\n    return 1 if k in (0, n) else c(n-1, k-1) + c(n-1, k)\nprint(c(60, 30))", "118264581564861424\n"},
		{"power assign", "x = 5\nx **= 2\nprint(x)", "25\n"},
		{"assert passes", "assert (1 ==\n 1), 'no'\nprint('ok')", "ok\n"},
		{"sys", "import sys\nsys.setrecursionlimit(10000)\nprint('ok')", "ok\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := run(t, c.code)
			require.NoError(t, err, "output so far: %q", got)
			assert.Equal(t, c.want, got)
		})
	}
}

func TestPythonErrors(t *testing.T) {
	cases := []struct {
		name, code, typ string
		line            int
	}{
		{"zero division", "x = 1\ny = x / 0", "ZeroDivisionError", 2},
		{"int zero division", "print(1)\nprint(5 // 0)", "ZeroDivisionError", 2},
		{"name", "print(undefined_thing)", "NameError", 1},
		{"index", "a = [1]\n\nprint(a[5])", "IndexError", 3},
		{"key", "d = {}\nd['k']", "KeyError", 2},
		{"syntax", "def f(:\n  pass", "SyntaxError", 1},
		{"unterminated", "print('abc)", "SyntaxError", 1},
		{"value", "int('abc')", "ValueError", 1},
		{"type", "'a' + 1", "TypeError", 1},
		{"import os", "import os\nos.system('ls')", "ModuleNotFoundError", 1},
		{"from subprocess", "from subprocess import run", "ModuleNotFoundError", 1},
		{"inside function", "def f(x):\n    return 1 / x\n\nf(0)", "ZeroDivisionError", 2},
		{"raise", "def f(n):\n    if n < 0:\n        raise ValueError(f'neg {n}')\nf(-1)", "ValueError", 3},
		{"assert", "x = 1\nassert x == 2, 'x is not 2'", "AssertionError", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, c.code)
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.typ, pe.Type, pe.Error())
			assert.Equal(t, c.line, pe.Line, pe.Error())
			assert.Contains(t, pe.Error(), c.typ)
		})
	}
	out, err := run(t, "print('before')\n1/0")
	require.Error(t, err)
	assert.Equal(t, "before\n", out, "output before the error is kept")
}

// TestHostile: the sandbox survives hostile code within its limits, with a
// clear error and without crashing the process.
func TestHostile(t *testing.T) {
	sb := New(Config{MaxSteps: 2_000_000, Timeout: 3 * time.Second, MaxOutput: 1000, MaxMemory: 256 << 20, MaxElems: 1_000_000, MaxIntBits: 1 << 20})
	cases := []struct{ name, code, typ string }{
		{"infinite loop", "while True:\n    pass", "TimeoutError"},
		{"infinite recursion", "def f(n):\n    return f(n + 1)\nf(0)", "RecursionError"},
		{"huge list", "x = [0] * (10**10)", "MemoryError"},
		{"huge string", "s = 'a' * 10**9", "MemoryError"},
		{"huge power", "x = 10**10**10", "MemoryError"},
		{"huge range list", "x = list(range(10**9))", "MemoryError"},
		{"growing list", "x = [1]\nwhile True:\n    x = x + x", "MemoryError"},
		{"growing string", "s = 'ab'\nwhile True:\n    s += s", "MemoryError"},
		{"huge factorial", "import math\nmath.factorial(10**7)", "MemoryError"},
		{"open file", "open('/etc/passwd').read()", "PermissionError"},
		{"import os", "import os", "ModuleNotFoundError"},
		{"import socket", "import socket", "ModuleNotFoundError"},
		{"dunder import", "__import__('os')", "NameError"},
		{"eval", "eval('1+1')", "Error"},
		{"time", "import time\ntime.time()", "ModuleNotFoundError"},
		{"permutations bomb", "from itertools import permutations\np = permutations(range(20))", "MemoryError"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sb.Run(context.Background(), c.code)
			require.Error(t, err)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			if c.typ != "" {
				assert.Equal(t, c.typ, pe.Type, pe.Error())
			}
		})
	}

	// Huge output is cut to the cap with a marker.
	out, err := sb.Run(context.Background(), "for i in range(100000):\n    print('line', i)")
	require.NoError(t, err)
	assert.LessOrEqual(t, len(out), 1100)
	assert.Contains(t, out, "[output truncated")

	// A cancelled context stops a run.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = New(Config{}).Run(ctx, "while True:\n    pass")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TimeoutError")
}

func TestTranslate(t *testing.T) {
	cases := map[string]string{
		"a ** b":                 "_pow(a, b)",
		"-x**2":                  "-_pow(x, 2)",
		"f(x)**2":                "_pow(f(x), 2)",
		"a.b[1]**c.d":            "_pow(a.b[1], c.d)",
		"2**-1":                  "_pow(2, -1)",
		"a**b**c":                "_pow(a, _pow(b, c))",
		"f(**kw)":                "f(**kw)",
		"sum(x for x in y)":      "sum([x for x in y])",
		"{1, 2}":                 "set([1, 2])",
		"{1: 2}":                 "{1: 2}",
		"{}":                     "{}",
		"x is not None":          "x != None",
		"f'{x}'":                 `(_fmt((x), ""))`,
		"10_000":                 "10000",
		"import math\nx = 1":     "pass\nx = 1",
		"s = 'a ** b # not {x}'": "s = 'a ** b # not {x}'",
	}
	for in, want := range cases {
		tr, err := translate(in)
		require.NoError(t, err, in)
		assert.Equal(t, strings.Fields(want), strings.Fields(tr.src), in)
		assert.Equal(t, strings.Count(in, "\n"), strings.Count(tr.src, "\n"), "lines kept: %q", in)
	}
}

func FuzzSandbox(f *testing.F) {
	for _, s := range []string{"print(1)", "x = f'{1:{2}}'", "a ** ** b", "{{}", "@cache\n", "from math import (", "def f(:"} {
		f.Add(s)
	}
	// Small limits: the fuzz test looks for panics and hangs, not speed.
	sb := New(Config{MaxSteps: 100_000, Timeout: time.Second, MaxOutput: 1000, MaxMemory: 64 << 20, MaxElems: 100_000, MaxIntBits: 1 << 16})
	f.Fuzz(func(t *testing.T, code string) {
		sb.Run(context.Background(), code) // must not panic
	})
}

func TestOutputLines(t *testing.T) {
	out, err := run(t, strings.Repeat("print('x')\n", 3))
	require.NoError(t, err)
	assert.Equal(t, "x\nx\nx\n", out)
}

// TestConcurrentRuns: runs share nothing, so parallel calls give the
// results each would give alone (run with -race).
func TestConcurrentRuns(t *testing.T) {
	sb := New(Config{Timeout: 5 * time.Second})
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		go func() {
			code := fmt.Sprintf("x = %d\nfor i in range(1000):\n    x += 1\nprint(x)", g)
			out, err := sb.Run(context.Background(), code)
			if err == nil && out != fmt.Sprintf("%d\n", g+1000) {
				err = fmt.Errorf("run %d printed %q", g, out)
			}
			errs <- err
		}()
	}
	for g := 0; g < 16; g++ {
		assert.NoError(t, <-errs)
	}
}
