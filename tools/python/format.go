package python

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
)

// pyStr is Python's str(v): what print shows.
func pyStr(v starlark.Value) string {
	if s, ok := v.(starlark.String); ok {
		return string(s)
	}
	return pyRepr(v)
}

// pyRepr is Python's repr(v), so that printed lists, floats and strings look
// as the model expects from real Python ('a', 1.0, 1e+16, True). It has no
// size cap: use reprMax for values the model built.
func pyRepr(v starlark.Value) string {
	var b strings.Builder
	writeRepr(&b, v, 0, math.MaxInt)
	return b.String()
}

// strMax and reprMax are str(v) and repr(v) that fail with a MemoryError
// before the text passes max bytes: a list holding one long list a million
// times has a repr of terabytes although the list itself is small.
func strMax(v starlark.Value, max int) (string, error) {
	if s, ok := v.(starlark.String); ok {
		return string(s), nil
	}
	return reprMax(v, max)
}

func reprMax(v starlark.Value, max int) (string, error) {
	var b strings.Builder
	if !writeRepr(&b, v, 0, max) {
		return "", tooBig("the text of this value", int64(b.Len()), max)
	}
	return b.String(), nil
}

// tooBig is the MemoryError of a result over the sandbox's size limit.
func tooBig(what string, n int64, limit int) error {
	return fmt.Errorf("MemoryError: %s would have %d elements or more, over the sandbox limit of %d", what, n, limit)
}

// writeRepr writes v's repr and reports false, having stopped early, once
// the text is longer than max bytes.
func writeRepr(b *strings.Builder, v starlark.Value, depth, max int) bool {
	if b.Len() > max {
		return false
	}
	if depth > 100 {
		b.WriteString("...")
		return true
	}
	seq := func(open, close string, it starlark.Iterable, n int) {
		b.WriteString(open)
		iter := it.Iterate()
		defer iter.Done()
		var x starlark.Value
		for i := 0; iter.Next(&x); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			if !writeRepr(b, x, depth+1, max) {
				return
			}
		}
		if n == 1 && open == "(" {
			b.WriteString(",")
		}
		b.WriteString(close)
	}
	switch v := v.(type) {
	case starlark.String:
		b.WriteString(quoteString(string(v)))
	case starlark.Float:
		b.WriteString(floatRepr(float64(v)))
	case starlark.NoneType:
		b.WriteString("None")
	case starlark.Bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case *starlark.List:
		seq("[", "]", v, v.Len())
	case starlark.Tuple:
		seq("(", ")", v, v.Len())
	case *starlark.Set:
		if v.Len() == 0 {
			b.WriteString("set()")
			return true
		}
		seq("{", "}", v, v.Len())
	case *starlark.Dict:
		b.WriteString("{")
		for i, kv := range v.Items() {
			if i > 0 {
				b.WriteString(", ")
			}
			if !writeRepr(b, kv[0], depth+1, max) {
				break
			}
			b.WriteString(": ")
			if !writeRepr(b, kv[1], depth+1, max) {
				break
			}
		}
		b.WriteString("}")
	case *starlark.Function:
		fmt.Fprintf(b, "<function %s>", v.Name())
	case *starlark.Builtin:
		fmt.Fprintf(b, "<built-in function %s>", v.Name())
	default:
		b.WriteString(v.String())
	}
	return b.Len() <= max
}

// quoteString quotes like Python: single quotes unless the text has a single
// quote and no double quote.
func quoteString(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// floatRepr is Python's repr of a float: the shortest digits that round
// trip, in fixed notation for exponents in [-4, 16), always with a '.' or
// an exponent.
func floatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// formatSpec is a parsed Python format specification:
// [[fill]align][sign][#][0][width][,|_][.precision][type]
type formatSpec struct {
	fill      rune
	align     byte
	sign      byte
	alt       bool
	width     int
	grouping  byte
	precision int // -1: none
	typ       byte
}

func parseSpec(spec string) (formatSpec, error) {
	fs := formatSpec{fill: ' ', precision: -1}
	r := []rune(spec)
	i := 0
	isAlign := func(c rune) bool { return c == '<' || c == '>' || c == '^' || c == '=' }
	if len(r) >= 2 && isAlign(r[1]) {
		fs.fill, fs.align, i = r[0], byte(r[1]), 2
	} else if len(r) >= 1 && isAlign(r[0]) {
		fs.align, i = byte(r[0]), 1
	}
	if i < len(r) && (r[i] == '+' || r[i] == '-' || r[i] == ' ') {
		fs.sign = byte(r[i])
		i++
	}
	if i < len(r) && r[i] == '#' {
		fs.alt = true
		i++
	}
	if i < len(r) && r[i] == '0' {
		if fs.align == 0 {
			fs.fill, fs.align = '0', '='
		}
		i++
	}
	for i < len(r) && r[i] >= '0' && r[i] <= '9' {
		fs.width = fs.width*10 + int(r[i]-'0')
		i++
		if fs.width > 10000 {
			return fs, fmt.Errorf("ValueError: format width too large")
		}
	}
	if i < len(r) && (r[i] == ',' || r[i] == '_') {
		fs.grouping = byte(r[i])
		i++
	}
	if i < len(r) && r[i] == '.' {
		i++
		fs.precision = 0
		start := i
		for i < len(r) && r[i] >= '0' && r[i] <= '9' {
			fs.precision = fs.precision*10 + int(r[i]-'0')
			i++
			if fs.precision > 1000 {
				return fs, fmt.Errorf("ValueError: precision too large")
			}
		}
		if i == start {
			return fs, fmt.Errorf("ValueError: format specifier missing precision")
		}
	}
	if i < len(r) {
		fs.typ = byte(r[i])
		i++
	}
	if i != len(r) {
		return fs, fmt.Errorf("ValueError: invalid format specifier '%s'", spec)
	}
	return fs, nil
}

// formatValue is Python's format(v, spec) for ints, floats and strings;
// the text of a value other than a number is capped at max bytes (the
// width is capped by parseSpec).
func formatValue(v starlark.Value, spec string, max int) (string, error) {
	if spec == "" {
		return strMax(v, max)
	}
	fs, err := parseSpec(spec)
	if err != nil {
		return "", err
	}
	var body string
	neg := false
	numeric := true
	switch x := v.(type) {
	case starlark.Bool:
		n := 0
		if x {
			n = 1
		}
		if fs.typ == 0 {
			body = pyStr(x)
			numeric = false
		} else {
			body, neg, err = formatInt(big.NewInt(int64(n)), fs)
		}
	case starlark.Int:
		if strings.IndexByte("eEfFgG%", fs.typ) >= 0 {
			f, _ := starlark.AsFloat(x)
			body, neg, err = formatFloat(f, fs)
		} else {
			body, neg, err = formatInt(x.BigInt(), fs)
		}
	case starlark.Float:
		body, neg, err = formatFloat(float64(x), fs)
	default:
		if fs.typ != 0 && fs.typ != 's' {
			return "", fmt.Errorf("ValueError: Unknown format code '%c' for object of type '%s'", fs.typ, typeName(v))
		}
		if body, err = strMax(v, max); err != nil {
			return "", err
		}
		if fs.precision >= 0 && len([]rune(body)) > fs.precision {
			body = string([]rune(body)[:fs.precision])
		}
		numeric = false
	}
	if err != nil {
		return "", err
	}
	sign := ""
	if numeric {
		switch {
		case neg:
			sign = "-"
		case fs.sign == '+':
			sign = "+"
		case fs.sign == ' ':
			sign = " "
		}
	}
	align := fs.align
	if align == 0 {
		align = '<'
		if numeric {
			align = '>'
		}
	}
	pad := fs.width - len([]rune(sign+body))
	if pad <= 0 {
		return sign + body, nil
	}
	fill := strings.Repeat(string(fs.fill), pad)
	switch align {
	case '<':
		return sign + body + fill, nil
	case '^':
		l := strings.Repeat(string(fs.fill), pad/2)
		return l + sign + body + strings.Repeat(string(fs.fill), pad-pad/2), nil
	case '=':
		return sign + fill + body, nil
	}
	return fill + sign + body, nil
}

func formatInt(n *big.Int, fs formatSpec) (string, bool, error) {
	neg := n.Sign() < 0
	a := new(big.Int).Abs(n)
	var s string
	switch fs.typ {
	case 0, 'd', 'n':
		s = a.String()
	case 'x':
		s = a.Text(16)
	case 'X':
		s = strings.ToUpper(a.Text(16))
	case 'o':
		s = a.Text(8)
	case 'b':
		s = a.Text(2)
	case 'c':
		s = string(rune(a.Int64()))
	default:
		return "", false, fmt.Errorf("ValueError: Unknown format code '%c' for object of type 'int'", fs.typ)
	}
	if fs.grouping != 0 {
		s = group(s, fs.grouping)
	}
	if fs.alt {
		switch fs.typ {
		case 'x', 'X', 'o', 'b':
			s = "0" + string(fs.typ) + s
		}
	}
	return s, neg, nil
}

func formatFloat(f float64, fs formatSpec) (string, bool, error) {
	neg := math.Signbit(f) && !math.IsNaN(f)
	a := math.Abs(f)
	p := fs.precision
	var s string
	switch fs.typ {
	case 'f', 'F':
		if p < 0 {
			p = 6
		}
		s = strconv.FormatFloat(a, 'f', p, 64)
	case 'e', 'E':
		if p < 0 {
			p = 6
		}
		s = pyExp(strconv.FormatFloat(a, 'e', p, 64))
	case 'g', 'G':
		if p < 0 {
			p = 6
		}
		if p == 0 {
			p = 1
		}
		s = pyExp(strconv.FormatFloat(a, 'g', p, 64))
	case '%':
		if p < 0 {
			p = 6
		}
		s = strconv.FormatFloat(a*100, 'f', p, 64) + "%"
	case 0:
		if p < 0 {
			s = floatRepr(a)
		} else {
			s = pyExp(strconv.FormatFloat(a, 'g', max(p, 1), 64))
		}
	default:
		return "", false, fmt.Errorf("ValueError: Unknown format code '%c' for object of type 'float'", fs.typ)
	}
	if fs.typ == 'E' || fs.typ == 'G' || fs.typ == 'F' {
		s = strings.ToUpper(s)
	}
	if math.IsInf(a, 0) {
		s = "inf"
	} else if math.IsNaN(a) {
		s = "nan"
	}
	if fs.grouping != 0 {
		intPart, rest, _ := strings.Cut(s, ".")
		if rest != "" || strings.Contains(s, ".") {
			rest = "." + rest
		}
		s = group(intPart, fs.grouping) + rest
	}
	return s, neg, nil
}

// pyExp writes Go's exponent (e+06) as Python does (e+06): both use at
// least two digits, so only Go's three-digit padding needs no change.
func pyExp(s string) string { return s }

func group(digits string, sep byte) string {
	if len(digits) <= 3 || strings.ContainsAny(digits, "e") {
		return digits
	}
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(sep)
		}
		b.WriteRune(c)
	}
	return b.String()
}

// percentFormat is Python's "fmt" % args with flags, width and precision;
// it fails before the result passes max bytes.
func percentFormat(format string, args starlark.Value, max int) (string, error) {
	var list []starlark.Value
	var dict *starlark.Dict
	switch a := args.(type) {
	case starlark.Tuple:
		list = a
	case *starlark.Dict:
		dict = a
		list = []starlark.Value{a}
	default:
		list = []starlark.Value{a}
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", fmt.Errorf("ValueError: incomplete format")
		}
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		var arg starlark.Value
		if format[i] == '(' && dict != nil {
			end := strings.IndexByte(format[i:], ')')
			if end < 0 {
				return "", fmt.Errorf("ValueError: incomplete format key")
			}
			v, found, err := dict.Get(starlark.String(format[i+1 : i+end]))
			if err != nil || !found {
				return "", fmt.Errorf("KeyError: %s", quoteString(format[i+1:i+end]))
			}
			arg = v
			i += end + 1
		}
		j := i
		for j < len(format) && strings.IndexByte("-+ #0123456789.", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return "", fmt.Errorf("ValueError: incomplete format")
		}
		flags, conv := format[i:j], format[j]
		i = j
		if arg == nil {
			if next >= len(list) {
				return "", fmt.Errorf("TypeError: not enough arguments for format string")
			}
			arg = list[next]
			next++
		}
		// Map printf flags onto a format spec.
		spec := ""
		left := strings.HasPrefix(strings.TrimLeft(flags, "+ #0"), "-") || strings.Contains(flags, "-")
		f := strings.ReplaceAll(flags, "-", "")
		if left {
			spec = "<"
		} else if conv == 's' || conv == 'r' || conv == 'a' {
			spec = ">" // printf right-aligns strings, format() left-aligns them
		}
		spec += f
		var s string
		var err error
		switch conv {
		case 's':
			if s, err = strMax(arg, max); err == nil {
				s, err = formatValue(starlark.String(s), spec, max)
			}
		case 'r', 'a':
			if s, err = reprMax(arg, max); err == nil {
				s, err = formatValue(starlark.String(s), spec, max)
			}
		case 'd', 'i', 'u':
			if fl, ok := arg.(starlark.Float); ok {
				arg = starlark.MakeInt64(int64(fl))
			}
			s, err = formatValue(arg, spec+"d", max)
		default:
			s, err = formatValue(arg, spec+string(conv), max)
		}
		if err != nil {
			return "", err
		}
		if b.Len()+len(s) > max {
			return "", tooBig("the formatted string", int64(b.Len()+len(s)), max)
		}
		b.WriteString(s)
	}
	if dict == nil && next < len(list) {
		return "", fmt.Errorf("TypeError: not all arguments converted during string formatting")
	}
	return b.String(), nil
}

// typeName is Python's name for a value's type.
func typeName(v starlark.Value) string {
	switch v.(type) {
	case starlark.String:
		return "str"
	case starlark.NoneType:
		return "NoneType"
	case *starlark.Function, *starlark.Builtin:
		return "function"
	}
	return v.Type()
}
