package python

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// limits shared by the builtins of one run.
type limits struct {
	maxElems   int // e.g. 10_000_000: largest list/string one operation may build
	maxIntBits int // e.g. 1 << 20: largest integer ** may produce
	maxDepth   int // e.g. 5000 nested calls
}

// builtins returns the predeclared names of a run: Starlark's universe with
// Python's missing builtins added and some replaced, plus the helpers the
// translation calls (_pow, _mul, _iter, _fmt, _percent, _method, _memoize).
func builtins(out *output, lim limits) starlark.StringDict {
	b := func(name string, fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)) *starlark.Builtin {
		return starlark.NewBuiltin(name, fn)
	}
	env := starlark.StringDict{
		"print": b("print", out.print),
		"str": b("str", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if len(args) == 0 {
				return starlark.String(""), nil
			}
			if len(args) != 1 || len(kw) > 0 {
				return nil, fmt.Errorf("TypeError: str() takes one argument")
			}
			s, err := strMax(args[0], lim.maxElems)
			return starlark.String(s), err
		}),
		"repr": oneArg("repr", func(v starlark.Value) (starlark.Value, error) {
			s, err := reprMax(v, lim.maxElems)
			return starlark.String(s), err
		}),
		"sum": b("sum", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			return pySum(th, args, kw, lim)
		}),
		"pow": b("pow", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var x, y, m starlark.Value
			if err := starlark.UnpackPositionalArgs("pow", args, kw, 2, &x, &y, &m); err != nil {
				return nil, err
			}
			return power(x, y, m, lim)
		}),
		"_pow": b("_pow", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return power(args[0], args[1], nil, lim)
		}),
		"_mul": b("_mul", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return multiply(args[0], args[1], lim)
		}),
		"_add": b("_add", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return add(args[0], args[1], lim, false)
		}),
		"_iadd": b("_iadd", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return add(args[0], args[1], lim, true)
		}),
		"_iter": oneArg("_iter", func(v starlark.Value) (starlark.Value, error) { return iterable(v), nil }),
		"_fmt": b("_fmt", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			spec, _ := starlark.AsString(args[1])
			s, err := formatValue(args[0], spec, lim.maxElems)
			return starlark.String(s), err
		}),
		"format": b("format", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var v starlark.Value
			var spec string
			if err := starlark.UnpackPositionalArgs("format", args, kw, 1, &v, &spec); err != nil {
				return nil, err
			}
			s, err := formatValue(v, spec, lim.maxElems)
			return starlark.String(s), err
		}),
		"_percent": b("_percent", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			s, err := percentFormat(string(args[0].(starlark.String)), args[1], lim.maxElems)
			return starlark.String(s), err
		}),
		"_mod": b("_mod", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			if f, ok := args[0].(starlark.String); ok {
				s, err := percentFormat(string(f), args[1], lim.maxElems)
				return starlark.String(s), err
			}
			return starlark.Binary(starlarkPercent, args[0], args[1])
		}),
		"_method": b("_method", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			return method(th, args[0], string(args[1].(starlark.String)), args[2:], kw, lim)
		}),
		"_bound": b("_bound", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return bound(args[0], string(args[1].(starlark.String)), lim)
		}),
		"getattr": b("getattr", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var recv, dflt starlark.Value
			var name string
			if err := starlark.UnpackPositionalArgs("getattr", args, kw, 2, &recv, &name, &dflt); err != nil {
				return nil, err
			}
			v, err := bound(recv, name, lim)
			if err != nil && dflt != nil {
				return dflt, nil
			}
			return v, err
		}),
		"_memoize": oneArg("_memoize", memoize),
		"_depth": b("_depth", func(th *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			// Each Python-level call adds two frames here: the function and _depth.
			if th.CallStackDepth() > 2*lim.maxDepth {
				return nil, fmt.Errorf("RecursionError: maximum recursion depth exceeded (limit %d)", lim.maxDepth)
			}
			return starlark.None, nil
		}),
		"round": b("round", pyRound),
		"_raise": b("_raise", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			typ := string(args[0].(starlark.String))
			msg := make([]string, len(args)-1)
			for i, a := range args[1:] {
				msg[i] = pyStr(a)
			}
			return nil, &Error{Type: typ, Msg: strings.Join(msg, ", ")}
		}),
		"_assert": b("_assert", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			if len(args) > 0 && args[0].Truth() {
				return starlark.None, nil
			}
			msg := ""
			if len(args) > 1 {
				msg = pyStr(args[1])
			}
			return nil, &Error{Type: "AssertionError", Msg: msg}
		}),
		"divmod": b("divmod", pyDivmod),
		"isinstance": b("isinstance", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			var v, t starlark.Value
			if err := starlark.UnpackPositionalArgs("isinstance", args, kw, 2, &v, &t); err != nil {
				return nil, err
			}
			return starlark.Bool(isInstance(v, t)), nil
		}),
		"map":    b("map", pyMap),
		"filter": b("filter", pyFilter),
		"hex":    intText("hex", 16, "0x"),
		"oct":    intText("oct", 8, "0o"),
		"bin":    intText("bin", 2, "0b"),
		"input":  denied("input", "there is no standard input in the sandbox"),
		"open":   denied("open", "PermissionError: file access is not allowed in the sandbox"),
		"eval":   denied("eval", "eval is not available in the sandbox"),
		"exec":   denied("exec", "exec is not available in the sandbox"),
		"exit":   b("exit", exit),
		"quit":   b("quit", exit),
	}
	// Python's builtins that take an iterable also take a string; Starlark's
	// do not, so wrap them to pass its characters instead.
	for _, name := range []string{"list", "tuple", "set", "sorted", "reversed", "enumerate", "zip", "any", "all", "max", "min", "dict"} {
		orig := starlark.Universe[name].(*starlark.Builtin)
		env[name] = b(name, func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			if (name == "max" || name == "min") && len(args) > 1 {
				return orig.CallInternal(th, args, kw)
			}
			args2 := make(starlark.Tuple, len(args))
			for i, a := range args {
				args2[i] = iterable(a)
				if l, ok := args2[i].(starlark.Sequence); ok && l.Len() > lim.maxElems {
					return nil, fmt.Errorf("MemoryError: %s of %d elements is over the sandbox limit of %d", name, l.Len(), lim.maxElems)
				}
			}
			return orig.CallInternal(th, args2, kw)
		})
	}
	return env
}

func oneArg(name string, fn func(starlark.Value) (starlark.Value, error)) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := starlark.UnpackPositionalArgs(name, args, kw, 1, &v); err != nil {
			return nil, err
		}
		return fn(v)
	})
}

func denied(name, msg string) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return nil, fmt.Errorf("%s", msg)
	})
}

// exitReason marks a cancellation by exit()/sys.exit(), which ends the run
// without an error.
const exitReason = "SystemExit"

func exit(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if f, ok := th.Local("stop").(*stopFlag); ok {
		stop(th, f, exitReason)
	}
	return starlark.None, nil
}

// iterable returns the characters of a string as a list, and anything else
// unchanged.
func iterable(v starlark.Value) starlark.Value {
	s, ok := v.(starlark.String)
	if !ok {
		return v
	}
	var chars []starlark.Value
	for _, r := range string(s) {
		chars = append(chars, starlark.String(string(r)))
	}
	return starlark.NewList(chars)
}

func toBig(v starlark.Value) (*big.Int, bool) {
	switch x := v.(type) {
	case starlark.Int:
		return x.BigInt(), true
	case starlark.Bool:
		if x {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	}
	return nil, false
}

// power is Python's x ** y and pow(x, y, m), with a cap on the size of
// integer results so 10**10**10 fails at once instead of exhausting memory.
func power(x, y, m starlark.Value, lim limits) (starlark.Value, error) {
	bx, xi := toBig(x)
	by, yi := toBig(y)
	if m != nil && m != starlark.None {
		bm, mi := toBig(m)
		if !xi || !yi || !mi {
			return nil, fmt.Errorf("TypeError: pow() 3rd argument not allowed unless all arguments are integers")
		}
		if bm.Sign() == 0 {
			return nil, fmt.Errorf("ValueError: pow() 3rd argument cannot be 0")
		}
		if by.Sign() < 0 {
			inv := new(big.Int).ModInverse(bx, new(big.Int).Abs(bm))
			if inv == nil {
				return nil, fmt.Errorf("ValueError: base is not invertible for the given modulus")
			}
			bx, by = inv, new(big.Int).Neg(by)
		}
		r := new(big.Int).Exp(bx, by, new(big.Int).Abs(bm))
		if bm.Sign() < 0 && r.Sign() != 0 {
			r.Add(r, bm)
		}
		return starlark.MakeBigInt(r), nil
	}
	if xi && yi && by.Sign() >= 0 {
		if bx.BitLen() > 1 && by.IsInt64() {
			if bits := float64(bx.BitLen()-1) * float64(by.Int64()); bits > float64(lim.maxIntBits) {
				return nil, fmt.Errorf("MemoryError: integer result of ** would have about %.0f bits (limit %d)", bits, lim.maxIntBits)
			}
		} else if bx.BitLen() > 1 {
			return nil, fmt.Errorf("MemoryError: exponent too large")
		}
		if bx.CmpAbs(big.NewInt(1)) <= 0 && !by.IsInt64() {
			by = big.NewInt(int64(2 + by.Bit(0))) // same parity, small
		}
		return starlark.MakeBigInt(new(big.Int).Exp(bx, by, nil)), nil
	}
	fx, ok1 := starlark.AsFloat(x)
	fy, ok2 := starlark.AsFloat(y)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("TypeError: unsupported operand type(s) for ** or pow(): '%s' and '%s'", typeName(x), typeName(y))
	}
	if fx == 0 && fy < 0 {
		return nil, fmt.Errorf("ZeroDivisionError: 0.0 cannot be raised to a negative power")
	}
	if fx < 0 && fy != math.Trunc(fy) {
		return nil, fmt.Errorf("ValueError: negative number cannot be raised to a fractional power (complex numbers are not supported)")
	}
	r := math.Pow(fx, fy)
	if math.IsInf(r, 0) && !math.IsInf(fx, 0) && !math.IsInf(fy, 0) {
		return nil, fmt.Errorf("OverflowError: (34, 'Numerical result out of range')")
	}
	return starlark.Float(r), nil
}

// multiply is x * y with a check on repetitions ("ab" * n, [0] * n) so one
// expression cannot allocate gigabytes before the memory watchdog looks.
func multiply(x, y starlark.Value, lim limits) (starlark.Value, error) {
	if a, ok := x.(starlark.Int); ok {
		if b, ok := y.(starlark.Int); ok {
			// x = x * x doubles the bits each step: a few steps make one
			// multiplication of gigabytes.
			if bits := intBits(a) + intBits(b); bits > lim.maxIntBits {
				return nil, fmt.Errorf("MemoryError: integer product would have about %d bits (limit %d)", bits, lim.maxIntBits)
			}
			return starlark.Binary(starlarkStar, x, y)
		}
	}
	seq, n := x, y
	if _, ok := x.(starlark.Int); ok {
		seq, n = y, x
	}
	if l, ok := seq.(starlark.Sequence); ok {
		if ni, ok := n.(starlark.Int); ok {
			k, ok := ni.Int64()
			if !ok || k > 0 && int64(l.Len())*k > int64(lim.maxElems) {
				return nil, fmt.Errorf("MemoryError: repetition of %d elements %s times is over the sandbox limit of %d", l.Len(), ni, lim.maxElems)
			}
		}
	}
	if s, ok := seq.(starlark.String); ok {
		if ni, ok := n.(starlark.Int); ok {
			k, _ := ni.Int64()
			if k > 0 && int64(len(s))*k > int64(lim.maxElems) {
				return nil, fmt.Errorf("MemoryError: string repetition of %d bytes %d times is over the sandbox limit", len(s), k)
			}
		}
	}
	return starlark.Binary(starlarkStar, x, y)
}

// intBits is the size of x, without copying a small one.
func intBits(x starlark.Int) int {
	if _, ok := x.Int64(); ok {
		return 64
	}
	return x.BigInt().BitLen()
}

// add is x + y (and x += y when inplace: lists are extended in place, as in
// Python) with a check on the size of concatenations.
func add(x, y starlark.Value, lim limits, inplace bool) (starlark.Value, error) {
	switch x := x.(type) {
	case starlark.Int, starlark.Float:
		return starlark.Binary(starlarkPlus, x, y)
	case starlark.String:
		if s, ok := y.(starlark.String); ok && len(x)+len(s) > lim.maxElems {
			return nil, fmt.Errorf("MemoryError: string of %d bytes is over the sandbox limit of %d", len(x)+len(s), lim.maxElems)
		}
	case *starlark.List:
		if l, ok := y.(starlark.Sequence); ok && x.Len()+l.Len() > lim.maxElems {
			return nil, fmt.Errorf("MemoryError: list of %d elements is over the sandbox limit of %d", x.Len()+l.Len(), lim.maxElems)
		}
		if inplace {
			it, ok := iterable(y).(starlark.Iterable) // list += "ab" adds characters
			if !ok {
				return nil, fmt.Errorf("TypeError: '%s' object is not iterable", typeName(y))
			}
			var elems []starlark.Value
			i := it.Iterate()
			var v starlark.Value
			for i.Next(&v) {
				elems = append(elems, v)
			}
			i.Done()
			for _, v := range elems {
				if err := x.Append(v); err != nil {
					return nil, err
				}
			}
			return x, nil
		}
	case starlark.Tuple:
		if l, ok := y.(starlark.Tuple); ok && len(x)+len(l) > lim.maxElems {
			return nil, fmt.Errorf("MemoryError: tuple of %d elements is over the sandbox limit of %d", len(x)+len(l), lim.maxElems)
		}
	}
	return starlark.Binary(starlarkPlus, x, y)
}

// pySum is sum(); each addition is checked like +, so sum(lists, []) cannot
// build a list over the limit.
func pySum(th *starlark.Thread, args starlark.Tuple, kw []starlark.Tuple, lim limits) (starlark.Value, error) {
	var it, start starlark.Value = nil, starlark.MakeInt(0)
	if err := starlark.UnpackArgs("sum", args, kw, "iterable", &it, "start?", &start); err != nil {
		return nil, err
	}
	iter, ok := iterable(it).(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("TypeError: '%s' object is not iterable", typeName(it))
	}
	total := start
	i := iter.Iterate()
	defer i.Done()
	var x starlark.Value
	for i.Next(&x) {
		var err error
		if total, err = add(total, x, lim, false); err != nil {
			if strings.HasPrefix(err.Error(), "MemoryError") {
				return nil, err
			}
			return nil, fmt.Errorf("TypeError: %v", err)
		}
		if err := checkStop(th); err != nil {
			return nil, err
		}
	}
	return total, nil
}

func pyRound(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var x, nd starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs("round", args, kw, "number", &x, "ndigits?", &nd); err != nil {
		return nil, err
	}
	if i, ok := x.(starlark.Int); ok {
		if nd == starlark.None {
			return i, nil
		}
		n, err := starlark.AsInt32(nd)
		if err != nil || n >= 0 {
			return i, err
		}
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-n)), nil)
		q, r := new(big.Int).QuoRem(i.BigInt(), p, new(big.Int))
		// Round half to even, as Python does.
		r2 := new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2))
		if c := r2.Cmp(p); c > 0 || c == 0 && q.Bit(0) == 1 {
			if i.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
		return starlark.MakeBigInt(q.Mul(q, p)), nil
	}
	f, ok := starlark.AsFloat(x)
	if !ok {
		return nil, fmt.Errorf("TypeError: type %s doesn't define __round__ method", typeName(x))
	}
	if nd == starlark.None {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("OverflowError: cannot convert float infinity or nan to integer")
		}
		r := math.RoundToEven(f)
		bf := new(big.Float).SetFloat64(r)
		bi, _ := bf.Int(nil)
		return starlark.MakeBigInt(bi), nil
	}
	n, err := starlark.AsInt32(nd)
	if err != nil {
		return nil, err
	}
	if n > 300 || n < -300 {
		return starlark.Float(f), nil
	}
	if n < 0 {
		p := math.Pow(10, float64(-n))
		return starlark.Float(math.RoundToEven(f/p) * p), nil
	}
	// Go's 'f' formatting rounds the exact binary value correctly, as
	// Python's round does (round(2.675, 2) == 2.67).
	r, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', n, 64), 64)
	return starlark.Float(r), nil
}

func pyDivmod(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs("divmod", args, kw, 2, &x, &y); err != nil {
		return nil, err
	}
	q, err := starlark.Binary(starlarkSlashSlash, x, y)
	if err != nil {
		return nil, err
	}
	r, err := starlark.Binary(starlarkPercent, x, y)
	if err != nil {
		return nil, err
	}
	return starlark.Tuple{q, r}, nil
}

func isInstance(v, t starlark.Value) bool {
	if tup, ok := t.(starlark.Tuple); ok {
		for _, x := range tup {
			if isInstance(v, x) {
				return true
			}
		}
		return false
	}
	b, ok := t.(*starlark.Builtin)
	if !ok {
		return false
	}
	want := b.Name()
	switch want {
	case "str":
		want = "string"
	case "float":
		if v.Type() == "int" {
			return false
		}
	case "int":
		return v.Type() == "int" || v.Type() == "bool"
	}
	return v.Type() == want
}

func pyMap(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 || len(kw) > 0 {
		return nil, fmt.Errorf("TypeError: map() must have at least two arguments")
	}
	fn := args[0]
	var iters []starlark.Iterator
	for _, a := range args[1:] {
		it, ok := iterable(a).(starlark.Iterable)
		if !ok {
			return nil, fmt.Errorf("TypeError: '%s' object is not iterable", typeName(a))
		}
		i := it.Iterate()
		defer i.Done()
		iters = append(iters, i)
	}
	var out []starlark.Value
	for {
		callArgs := make(starlark.Tuple, len(iters))
		for k, i := range iters {
			if !i.Next(&callArgs[k]) {
				return starlark.NewList(out), nil
			}
		}
		v, err := starlark.Call(th, fn, callArgs, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

func pyFilter(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var fn, seq starlark.Value
	if err := starlark.UnpackPositionalArgs("filter", args, kw, 2, &fn, &seq); err != nil {
		return nil, err
	}
	it, ok := iterable(seq).(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("TypeError: '%s' object is not iterable", typeName(seq))
	}
	i := it.Iterate()
	defer i.Done()
	var out []starlark.Value
	var x starlark.Value
	for i.Next(&x) {
		keep := x
		if fn != starlark.None {
			v, err := starlark.Call(th, fn, starlark.Tuple{x}, nil)
			if err != nil {
				return nil, err
			}
			keep = v
		}
		if keep.Truth() {
			out = append(out, x)
		}
	}
	return starlark.NewList(out), nil
}

func intText(name string, base int, prefix string) *starlark.Builtin {
	return oneArg(name, func(v starlark.Value) (starlark.Value, error) {
		n, ok := toBig(v)
		if !ok {
			return nil, fmt.Errorf("TypeError: '%s' object cannot be interpreted as an integer", typeName(v))
		}
		sign := ""
		if n.Sign() < 0 {
			sign = "-"
		}
		return starlark.String(sign + prefix + new(big.Int).Abs(n).Text(base)), nil
	})
}

// memoize is @cache: calls with the same hashable arguments return the
// stored result.
func memoize(fn starlark.Value) (starlark.Value, error) {
	memo := starlark.NewDict(16)
	return starlark.NewBuiltin("cached", func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if len(kw) > 0 {
			return starlark.Call(th, fn, args, kw)
		}
		if v, found, err := memo.Get(args); err == nil && found {
			return v, nil
		}
		v, err := starlark.Call(th, fn, args, kw)
		if err != nil {
			return nil, err
		}
		if err := memo.SetKey(args, v); err != nil {
			return v, nil // unhashable arguments: not cached, as lru_cache would refuse
		}
		return v, nil
	}), nil
}

// bound is recv.name as a value (f = s.replace, getattr(s, "join")): an
// intercepted method comes back bound to method, so calling it later is
// checked as a direct call is.
func bound(recv starlark.Value, name string, lim limits) (starlark.Value, error) {
	if !intercepted[name] {
		return getAttr(recv, name)
	}
	if _, err := getAttr(recv, name); err != nil && !isOwnMethod(recv, name) {
		return nil, err
	}
	return starlark.NewBuiltin(name, func(th *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		return method(th, recv, name, args, kw, lim)
	}), nil
}

// isOwnMethod reports the methods method adds to Starlark's types.
func isOwnMethod(recv starlark.Value, name string) bool {
	switch recv.(type) {
	case starlark.String:
		switch name {
		case "zfill", "ljust", "rjust", "center", "isnumeric", "isdecimal":
			return true
		}
	case *starlark.List:
		switch name {
		case "sort", "count", "copy", "reverse":
			return true
		}
	case *starlark.Dict:
		return name == "copy"
	}
	return false
}

// method implements the intercepted methods (see rewrite.go) and passes
// any other receiver through to the real method. Every method that builds a
// string or list checks the size of its result against lim.maxElems before
// it allocates: one such call cannot be interrupted, so the memory
// watchdog alone would act too late ("1".zfill(10**11) is 100 GB).
func method(th *starlark.Thread, recv starlark.Value, name string, rest starlark.Tuple, kw []starlark.Tuple, lim limits) (starlark.Value, error) {
	switch r := recv.(type) {
	case starlark.String:
		switch name {
		case "format":
			s, err := strFormat(string(r), rest, kw, lim.maxElems)
			return starlark.String(s), err
		case "zfill", "ljust", "rjust", "center":
			var width int
			fill := " "
			if err := starlark.UnpackPositionalArgs(name, rest, kw, 1, &width, &fill); err != nil {
				return nil, err
			}
			if utf8.RuneCountInString(fill) != 1 {
				return nil, fmt.Errorf("TypeError: The fill character must be exactly one character long")
			}
			if n := int64(width) - int64(utf8.RuneCountInString(string(r))); n > 0 && int64(len(r))+n*int64(len(fill)) > int64(lim.maxElems) {
				return nil, tooBig("str."+name+"()", int64(len(r))+n*int64(len(fill)), lim.maxElems)
			}
			return starlark.String(pad(string(r), name, width, fill)), nil
		case "replace":
			var old, new string
			count := -1
			if err := starlark.UnpackPositionalArgs(name, rest, kw, 2, &old, &new, &count); err != nil {
				return nil, err
			}
			if len(new) > len(old) {
				k := int64(strings.Count(string(r), old)) // "" matches len(runes)+1 times
				if count >= 0 && int64(count) < k {
					k = int64(count)
				}
				if n := int64(len(r)) + k*int64(len(new)-len(old)); n > int64(lim.maxElems) {
					return nil, tooBig("str.replace()", n, lim.maxElems)
				}
			}
			return starlark.String(strings.Replace(string(r), old, new, count)), nil
		case "join":
			var arg starlark.Value
			if err := starlark.UnpackPositionalArgs(name, rest, kw, 1, &arg); err != nil {
				return nil, err
			}
			it, ok := iterable(arg).(starlark.Iterable)
			if !ok {
				return nil, fmt.Errorf("TypeError: can only join an iterable")
			}
			var parts []string
			n := int64(0)
			iter := it.Iterate()
			defer iter.Done()
			var x starlark.Value
			for i := 0; iter.Next(&x); i++ {
				s, ok := x.(starlark.String)
				if !ok {
					return nil, fmt.Errorf("TypeError: sequence item %d: expected str instance, %s found", i, typeName(x))
				}
				if i > 0 {
					n += int64(len(r))
				}
				if n += int64(len(s)); n > int64(lim.maxElems) {
					return nil, tooBig("str.join()", n, lim.maxElems)
				}
				parts = append(parts, string(s))
			}
			return starlark.String(strings.Join(parts, string(r))), nil
		case "isnumeric", "isdecimal":
			return starlark.Bool(r != "" && strings.Trim(string(r), "0123456789") == ""), nil
		}
	case *starlark.List:
		switch name {
		case "extend":
			var it starlark.Value
			if err := starlark.UnpackPositionalArgs(name, rest, kw, 1, &it); err != nil {
				return nil, err
			}
			it = iterable(it)
			if n := starlark.Len(it); n > 0 && int64(r.Len())+int64(n) > int64(lim.maxElems) {
				return nil, tooBig("list.extend()", int64(r.Len())+int64(n), lim.maxElems)
			}
			m, err := getAttr(r, name)
			if err != nil {
				return nil, err
			}
			return starlark.Call(th, m, starlark.Tuple{it}, nil)
		case "sort":
			return starlark.None, listSort(th, r, rest, kw)
		case "count":
			var x starlark.Value
			if err := starlark.UnpackPositionalArgs("count", rest, kw, 1, &x); err != nil {
				return nil, err
			}
			n := 0
			for i := 0; i < r.Len(); i++ {
				if eq, err := starlark.Equal(r.Index(i), x); err == nil && eq {
					n++
				}
			}
			return starlark.MakeInt(n), nil
		case "copy":
			elems := make([]starlark.Value, r.Len())
			for i := range elems {
				elems[i] = r.Index(i)
			}
			return starlark.NewList(elems), nil
		case "reverse":
			n := r.Len()
			for i := 0; i < n/2; i++ {
				a, b := r.Index(i), r.Index(n-1-i)
				if err := r.SetIndex(i, b); err != nil {
					return nil, err
				}
				if err := r.SetIndex(n-1-i, a); err != nil {
					return nil, err
				}
			}
			return starlark.None, nil
		}
	case *starlark.Dict:
		if name == "copy" {
			d := starlark.NewDict(r.Len())
			for _, kv := range r.Items() {
				d.SetKey(kv[0], kv[1])
			}
			return d, nil
		}
	}
	m, err := getAttr(recv, name)
	if err != nil {
		return nil, err
	}
	return starlark.Call(th, m, rest, kw)
}

func getAttr(recv starlark.Value, name string) (starlark.Value, error) {
	if h, ok := recv.(starlark.HasAttrs); ok {
		if m, err := h.Attr(name); err == nil && m != nil {
			return m, nil
		}
	}
	return nil, fmt.Errorf("AttributeError: '%s' object has no attribute '%s'", typeName(recv), name)
}

func pad(s, how string, width int, fill string) string {
	n := width - len([]rune(s))
	if n <= 0 {
		return s
	}
	if how == "zfill" {
		if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
			return s[:1] + strings.Repeat("0", n) + s[1:]
		}
		return strings.Repeat("0", n) + s
	}
	switch how {
	case "ljust":
		return s + strings.Repeat(fill, n)
	case "rjust":
		return strings.Repeat(fill, n) + s
	}
	l := n / 2
	if n%2 == 1 && width%2 == 1 {
		l++
	}
	return strings.Repeat(fill, l) + s + strings.Repeat(fill, n-l)
}

func listSort(th *starlark.Thread, l *starlark.List, args starlark.Tuple, kw []starlark.Tuple) error {
	var key starlark.Value = starlark.None
	reverse := false
	if err := starlark.UnpackArgs("sort", args, kw, "key?", &key, "reverse?", &reverse); err != nil {
		return err
	}
	kw2 := []starlark.Tuple{{starlark.String("reverse"), starlark.Bool(reverse)}}
	if key != starlark.None {
		kw2 = append(kw2, starlark.Tuple{starlark.String("key"), key})
	}
	sorted, err := starlark.Call(th, starlark.Universe["sorted"], starlark.Tuple{l}, kw2)
	if err != nil {
		return err
	}
	s := sorted.(*starlark.List)
	for i := 0; i < s.Len(); i++ {
		if err := l.SetIndex(i, s.Index(i)); err != nil {
			return err
		}
	}
	return nil
}

// strFormat is Python's str.format with format specs and conversions; it
// fails before the result passes max bytes.
func strFormat(f string, args starlark.Tuple, kw []starlark.Tuple, max int) (string, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case c == '{' && i+1 < len(f) && f[i+1] == '{', c == '}' && i+1 < len(f) && f[i+1] == '}':
			b.WriteByte(c)
			i++
		case c == '}':
			return "", fmt.Errorf("ValueError: Single '}' encountered in format string")
		case c == '{':
			end := strings.IndexByte(f[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("ValueError: Single '{' encountered in format string")
			}
			field := f[i+1 : i+end]
			i += end
			name, spec, _ := strings.Cut(field, ":")
			name, conv, _ := strings.Cut(name, "!")
			var v starlark.Value
			if name == "" {
				if auto >= len(args) {
					return "", fmt.Errorf("IndexError: Replacement index %d out of range for positional args tuple", auto)
				}
				v = args[auto]
				auto++
			} else if n, err := strconv.Atoi(name); err == nil {
				if n >= len(args) {
					return "", fmt.Errorf("IndexError: Replacement index %d out of range for positional args tuple", n)
				}
				v = args[n]
			} else {
				for _, kv := range kw {
					if string(kv[0].(starlark.String)) == name {
						v = kv[1]
					}
				}
				if v == nil {
					return "", fmt.Errorf("KeyError: %s", quoteString(name))
				}
			}
			var err error
			switch conv {
			case "r", "a":
				var s string
				s, err = reprMax(v, max)
				v = starlark.String(s)
			case "s":
				var s string
				s, err = strMax(v, max)
				v = starlark.String(s)
			}
			if err != nil {
				return "", err
			}
			s, err := formatValue(v, spec, max)
			if err != nil {
				return "", err
			}
			if b.Len()+len(s) > max {
				return "", tooBig("str.format()", int64(b.Len()+len(s)), max)
			}
			b.WriteString(s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
