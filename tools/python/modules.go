package python

import (
	"fmt"
	"math"
	"math/big"

	starmath "go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// newModules builds the importable modules of a run. Only pure
// computation is offered: no os, no time, no random (a seeded random would
// be harmless, but models use it for simulations that then differ from
// real Python).
func newModules(lim limits) map[string]*starlarkstruct.Module {
	m := starlark.StringDict{}
	for k, v := range starmath.Module.Members {
		m[k] = v
	}
	// Python's math has neither; "from math import *" must not shadow round.
	delete(m, "round")
	delete(m, "mod")
	f1 := func(name string, fn func(float64) float64) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var x starlark.Value
			if err := starlark.UnpackPositionalArgs(name, args, kw, 1, &x); err != nil {
				return nil, err
			}
			f, ok := starlark.AsFloat(x)
			if !ok {
				return nil, fmt.Errorf("TypeError: must be real number, not %s", typeName(x))
			}
			r := fn(f)
			if math.IsNaN(r) && !math.IsNaN(f) {
				return nil, fmt.Errorf("ValueError: math domain error")
			}
			return starlark.Float(r), nil
		})
	}
	intFn := func(name string, n int, fn func(a []*big.Int) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if len(kw) > 0 || n >= 0 && len(args) != n {
				return nil, fmt.Errorf("TypeError: %s() takes %d arguments", name, n)
			}
			bs := make([]*big.Int, len(args))
			for i, a := range args {
				b, ok := toBig(a)
				if !ok {
					if f, isF := a.(starlark.Float); isF && float64(f) == math.Trunc(float64(f)) && name == "factorial" {
						return nil, fmt.Errorf("TypeError: 'float' object cannot be interpreted as an integer")
					}
					return nil, fmt.Errorf("TypeError: '%s' object cannot be interpreted as an integer", typeName(a))
				}
				bs[i] = b
			}
			return fn(bs)
		})
	}
	m["sqrt"] = f1("sqrt", math.Sqrt)
	m["log2"] = f1("log2", math.Log2)
	m["log10"] = f1("log10", math.Log10)
	m["log1p"] = f1("log1p", math.Log1p)
	m["expm1"] = f1("expm1", math.Expm1)
	m["fabs"] = f1("fabs", math.Abs)
	m["exp"] = f1("exp", math.Exp)
	m["atan2"] = starlark.NewBuiltin("atan2", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var y, x float64
		if err := starlark.UnpackPositionalArgs("atan2", args, kw, 2, &y, &x); err != nil {
			return nil, err
		}
		return starlark.Float(math.Atan2(y, x)), nil
	})
	m["log"] = starlark.NewBuiltin("log", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var x, base starlark.Value
		if err := starlark.UnpackPositionalArgs("log", args, kw, 1, &x, &base); err != nil {
			return nil, err
		}
		lx, err := bigLog(x)
		if err != nil {
			return nil, err
		}
		if base == nil {
			return starlark.Float(lx), nil
		}
		lb, err := bigLog(base)
		if err != nil {
			return nil, err
		}
		return starlark.Float(lx / lb), nil
	})
	m["inf"] = starlark.Float(math.Inf(1))
	m["nan"] = starlark.Float(math.NaN())
	m["tau"] = starlark.Float(2 * math.Pi)
	m["trunc"] = starlark.NewBuiltin("trunc", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("TypeError: trunc() takes one argument")
		}
		return starlark.Call(nil, starlark.Universe["int"], args, nil)
	})
	m["isqrt"] = intFn("isqrt", 1, func(a []*big.Int) (starlark.Value, error) {
		if a[0].Sign() < 0 {
			return nil, fmt.Errorf("ValueError: isqrt() argument must be nonnegative")
		}
		return starlark.MakeBigInt(new(big.Int).Sqrt(a[0])), nil
	})
	m["gcd"] = intFn("gcd", -1, func(a []*big.Int) (starlark.Value, error) {
		g := new(big.Int)
		for _, x := range a {
			g.GCD(nil, nil, g, new(big.Int).Abs(x))
		}
		return starlark.MakeBigInt(g), nil
	})
	m["lcm"] = intFn("lcm", -1, func(a []*big.Int) (starlark.Value, error) {
		l := big.NewInt(1)
		for _, x := range a {
			if x.Sign() == 0 {
				return starlark.MakeInt(0), nil
			}
			g := new(big.Int).GCD(nil, nil, l, new(big.Int).Abs(x))
			l.Mul(l, new(big.Int).Quo(new(big.Int).Abs(x), g))
		}
		return starlark.MakeBigInt(l), nil
	})
	small := func(x *big.Int, what string) (int64, error) {
		if x.Sign() < 0 {
			return 0, fmt.Errorf("ValueError: %s not defined for negative values", what)
		}
		if !x.IsInt64() || x.Int64() > 100_000 {
			return 0, fmt.Errorf("MemoryError: %s argument %s is over the sandbox limit of 100000", what, x)
		}
		return x.Int64(), nil
	}
	m["factorial"] = intFn("factorial", 1, func(a []*big.Int) (starlark.Value, error) {
		n, err := small(a[0], "factorial()")
		if err != nil {
			return nil, err
		}
		return starlark.MakeBigInt(new(big.Int).MulRange(1, max(n, 1))), nil
	})
	m["comb"] = intFn("comb", 2, func(a []*big.Int) (starlark.Value, error) {
		n, err := small(a[0], "comb()")
		if err != nil {
			return nil, err
		}
		k, err := small(a[1], "comb()")
		if err != nil {
			return nil, err
		}
		if k > n {
			return starlark.MakeInt(0), nil
		}
		return starlark.MakeBigInt(new(big.Int).Binomial(n, k)), nil
	})
	m["perm"] = intFn("perm", -1, func(a []*big.Int) (starlark.Value, error) {
		if len(a) < 1 || len(a) > 2 {
			return nil, fmt.Errorf("TypeError: perm() takes 1 or 2 arguments")
		}
		n, err := small(a[0], "perm()")
		if err != nil {
			return nil, err
		}
		k := n
		if len(a) == 2 {
			if k, err = small(a[1], "perm()"); err != nil {
				return nil, err
			}
		}
		if k > n {
			return starlark.MakeInt(0), nil
		}
		if k == 0 {
			return starlark.MakeInt(1), nil
		}
		return starlark.MakeBigInt(new(big.Int).MulRange(n-k+1, n)), nil
	})
	m["prod"] = starlark.NewBuiltin("prod", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var it starlark.Iterable
		if err := starlark.UnpackPositionalArgs("prod", args, kw, 1, &it); err != nil {
			return nil, err
		}
		var p starlark.Value = starlark.MakeInt(1)
		i := it.Iterate()
		defer i.Done()
		var x starlark.Value
		for i.Next(&x) {
			var err error
			if p, err = multiply(p, x, lim); err != nil {
				return nil, err
			}
			if err := checkStop(th); err != nil {
				return nil, err
			}
		}
		return p, nil
	})
	m["fsum"] = starlark.NewBuiltin("fsum", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var it starlark.Iterable
		if err := starlark.UnpackPositionalArgs("fsum", args, kw, 1, &it); err != nil {
			return nil, err
		}
		// Kahan-Babuska summation: close to Python's exact fsum for the sums models write.
		var s, c float64
		i := it.Iterate()
		defer i.Done()
		var x starlark.Value
		for i.Next(&x) {
			f, ok := starlark.AsFloat(x)
			if !ok {
				return nil, fmt.Errorf("TypeError: must be real number, not %s", typeName(x))
			}
			t := s + f
			if math.Abs(s) >= math.Abs(f) {
				c += (s - t) + f
			} else {
				c += (f - t) + s
			}
			s = t
		}
		return starlark.Float(s + c), nil
	})
	m["isclose"] = starlark.NewBuiltin("isclose", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var a, b float64
		relTol, absTol := 1e-9, 0.0
		if err := starlark.UnpackArgs("isclose", args, kw, "a", &a, "b", &b, "rel_tol?", &relTol, "abs_tol?", &absTol); err != nil {
			return nil, err
		}
		if a == b {
			return starlark.True, nil
		}
		d := math.Abs(a - b)
		return starlark.Bool(d <= math.Max(relTol*math.Max(math.Abs(a), math.Abs(b)), absTol)), nil
	})
	for _, name := range []string{"isfinite", "isinf", "isnan"} {
		m[name] = starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var f float64
			if err := starlark.UnpackPositionalArgs(name, args, kw, 1, &f); err != nil {
				return nil, err
			}
			switch name {
			case "isfinite":
				return starlark.Bool(!math.IsInf(f, 0) && !math.IsNaN(f)), nil
			case "isinf":
				return starlark.Bool(math.IsInf(f, 0)), nil
			}
			return starlark.Bool(math.IsNaN(f)), nil
		})
	}

	sys := starlark.StringDict{
		"setrecursionlimit": starlark.NewBuiltin("setrecursionlimit", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.None, nil // the sandbox has its own fixed limit
		}),
		"set_int_max_str_digits": starlark.NewBuiltin("set_int_max_str_digits", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.None, nil
		}),
		"maxsize": starlark.MakeInt64(math.MaxInt64),
		"exit":    starlark.NewBuiltin("exit", exit),
	}
	functools := starlark.StringDict{
		"reduce": starlark.NewBuiltin("reduce", reduce),
		// Only usable as decorators, which the translation turns into memoisation.
		"lru_cache": denied("lru_cache", "TypeError: lru_cache is supported only as a decorator (@lru_cache)"),
		"cache":     denied("cache", "TypeError: cache is supported only as a decorator (@cache)"),
	}
	return map[string]*starlarkstruct.Module{
		"math":      {Name: "math", Members: m},
		"sys":       {Name: "sys", Members: sys},
		"itertools": {Name: "itertools", Members: itertools(lim)},
		"functools": {Name: "functools", Members: functools},
	}
}

// bigLog is log(x) that also works for integers beyond float range.
func bigLog(x starlark.Value) (float64, error) {
	if i, ok := x.(starlark.Int); ok {
		b := i.BigInt()
		if b.Sign() <= 0 {
			return 0, fmt.Errorf("ValueError: math domain error")
		}
		if n := b.BitLen(); n > 1000 {
			top := new(big.Int).Rsh(b, uint(n-64))
			f, _ := new(big.Float).SetInt(top).Float64()
			return math.Log(f) + float64(n-64)*math.Ln2, nil
		}
	}
	f, ok := starlark.AsFloat(x)
	if !ok {
		return 0, fmt.Errorf("TypeError: must be real number, not %s", typeName(x))
	}
	if f <= 0 {
		return 0, fmt.Errorf("ValueError: math domain error")
	}
	return math.Log(f), nil
}

func reduce(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var fn, seq, acc starlark.Value
	if err := starlark.UnpackPositionalArgs("reduce", args, kw, 2, &fn, &seq, &acc); err != nil {
		return nil, err
	}
	it, ok := iterable(seq).(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("TypeError: '%s' object is not iterable", typeName(seq))
	}
	i := it.Iterate()
	defer i.Done()
	var x starlark.Value
	for i.Next(&x) {
		if acc == nil {
			acc = x
			continue
		}
		v, err := starlark.Call(th, fn, starlark.Tuple{acc, x}, nil)
		if err != nil {
			return nil, err
		}
		acc = v
	}
	if acc == nil {
		return nil, fmt.Errorf("TypeError: reduce() of empty iterable with no initial value")
	}
	return acc, nil
}
