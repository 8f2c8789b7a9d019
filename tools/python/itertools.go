package python

import (
	"fmt"
	"math/big"

	"go.starlark.net/starlark"
)

// itertools returns the combinatorial functions of Python's itertools.
// Starlark has no lazy iterators, so each returns a list; the size is
// computed first and refused when over the element limit.
func itertools(lim limits) starlark.StringDict {
	elems := func(name string, v starlark.Value) ([]starlark.Value, error) {
		it, ok := iterable(v).(starlark.Iterable)
		if !ok {
			return nil, fmt.Errorf("TypeError: '%s' object is not iterable", typeName(v))
		}
		var out []starlark.Value
		i := it.Iterate()
		defer i.Done()
		var x starlark.Value
		for i.Next(&x) {
			out = append(out, x)
			if len(out) > lim.maxElems {
				return nil, fmt.Errorf("MemoryError: %s input over the sandbox limit", name)
			}
		}
		return out, nil
	}
	check := func(name string, n *big.Int) error {
		if n.Cmp(big.NewInt(int64(lim.maxElems))) > 0 {
			return fmt.Errorf("MemoryError: %s would build %s values, over the sandbox limit of %d (the sandbox has no lazy iterators)", name, n, lim.maxElems)
		}
		return nil
	}
	tuple := func(pool []starlark.Value, idx []int) starlark.Tuple {
		t := make(starlark.Tuple, len(idx))
		for i, j := range idx {
			t[i] = pool[j]
		}
		return t
	}
	return starlark.StringDict{
		"permutations": starlark.NewBuiltin("permutations", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var seq, rv starlark.Value = nil, starlark.None
			if err := starlark.UnpackArgs("permutations", args, kw, "iterable", &seq, "r?", &rv); err != nil {
				return nil, err
			}
			pool, err := elems("permutations", seq)
			if err != nil {
				return nil, err
			}
			n, r := len(pool), len(pool)
			if rv != starlark.None {
				if r, err = starlark.AsInt32(rv); err != nil {
					return nil, err
				}
			}
			if r > n || r < 0 {
				return starlark.NewList(nil), nil
			}
			if err := check("permutations", new(big.Int).Mul(new(big.Int).MulRange(int64(n-r+1), int64(max(n, 1))), big.NewInt(int64(max(r, 1))))); err != nil {
				return nil, err
			}
			var out []starlark.Value
			used := make([]bool, n)
			idx := make([]int, 0, r)
			var rec func()
			rec = func() {
				if len(idx) == r {
					out = append(out, tuple(pool, idx))
					return
				}
				for j := 0; j < n; j++ {
					if !used[j] {
						used[j] = true
						idx = append(idx, j)
						rec()
						idx = idx[:len(idx)-1]
						used[j] = false
					}
				}
			}
			rec()
			return starlark.NewList(out), nil
		}),
		"combinations":                  combos("combinations", false, elems, check, tuple),
		"combinations_with_replacement": combos("combinations_with_replacement", true, elems, check, tuple),
		"product": starlark.NewBuiltin("product", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			repeat := 1
			for _, kv := range kw {
				if string(kv[0].(starlark.String)) != "repeat" {
					return nil, fmt.Errorf("TypeError: product() got an unexpected keyword argument")
				}
				var err error
				if repeat, err = starlark.AsInt32(kv[1]); err != nil {
					return nil, err
				}
			}
			var pools [][]starlark.Value
			total := big.NewInt(1)
			for k := 0; k < repeat; k++ {
				for _, a := range args {
					p, err := elems("product", a)
					if err != nil {
						return nil, err
					}
					pools = append(pools, p)
					total.Mul(total, big.NewInt(int64(len(p))))
				}
			}
			if err := check("product", new(big.Int).Mul(total, big.NewInt(int64(max(len(pools), 1))))); err != nil {
				return nil, err
			}
			out := []starlark.Value{starlark.Tuple{}}
			for _, p := range pools {
				var next []starlark.Value
				for _, prefix := range out {
					for _, x := range p {
						t := append(append(starlark.Tuple{}, prefix.(starlark.Tuple)...), x)
						next = append(next, t)
					}
				}
				out = next
			}
			return starlark.NewList(out), nil
		}),
		"accumulate": starlark.NewBuiltin("accumulate", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var seq, fn starlark.Value = nil, starlark.None
			if err := starlark.UnpackArgs("accumulate", args, kw, "iterable", &seq, "func?", &fn); err != nil {
				return nil, err
			}
			pool, err := elems("accumulate", seq)
			if err != nil {
				return nil, err
			}
			var out []starlark.Value
			var acc starlark.Value
			for _, x := range pool {
				if acc == nil {
					acc = x
				} else if fn == starlark.None {
					if acc, err = starlark.Binary(starlarkPlus, acc, x); err != nil {
						return nil, err
					}
				} else if acc, err = starlark.Call(th, fn, starlark.Tuple{acc, x}, nil); err != nil {
					return nil, err
				}
				out = append(out, acc)
			}
			return starlark.NewList(out), nil
		}),
		"chain": starlark.NewBuiltin("chain", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var out []starlark.Value
			for _, a := range args {
				p, err := elems("chain", a)
				if err != nil {
					return nil, err
				}
				out = append(out, p...)
				if len(out) > lim.maxElems {
					return nil, fmt.Errorf("MemoryError: chain over the sandbox limit")
				}
			}
			return starlark.NewList(out), nil
		}),
	}
}

func combos(name string, repl bool,
	elems func(string, starlark.Value) ([]starlark.Value, error),
	check func(string, *big.Int) error,
	tuple func([]starlark.Value, []int) starlark.Tuple) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var seq starlark.Value
		var r int
		if err := starlark.UnpackArgs(name, args, kw, "iterable", &seq, "r", &r); err != nil {
			return nil, err
		}
		pool, err := elems(name, seq)
		if err != nil {
			return nil, err
		}
		n := len(pool)
		if r < 0 || !repl && r > n {
			return starlark.NewList(nil), nil
		}
		count := new(big.Int).Binomial(int64(n), int64(r))
		if repl {
			count = new(big.Int).Binomial(int64(n+r-1), int64(r))
		}
		if err := check(name, count.Mul(count, big.NewInt(int64(max(r, 1))))); err != nil {
			return nil, err
		}
		var out []starlark.Value
		idx := make([]int, 0, r)
		var rec func(start int)
		rec = func(start int) {
			if len(idx) == r {
				out = append(out, tuple(pool, idx))
				return
			}
			for j := start; j < n; j++ {
				idx = append(idx, j)
				if repl {
					rec(j)
				} else {
					rec(j + 1)
				}
				idx = idx[:len(idx)-1]
			}
		}
		rec(0)
		return starlark.NewList(out), nil
	})
}
