package python

import (
	"context"
	"testing"
)

// BenchmarkSmallCall is the cost of one typical tool call, set-up included:
//
//	go test -run '^$' -bench SmallCall ./tools/python
func BenchmarkSmallCall(b *testing.B) {
	sb := New(Config{})
	code := "import math\ns = sum(i**2 for i in range(1, 101))\nprint(f'{s} {math.sqrt(s):.3f}')"
	for i := 0; i < b.N; i++ {
		if _, err := sb.Run(context.Background(), code); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoop: a million loop iterations, to relate the step limit to time.
func BenchmarkLoop(b *testing.B) {
	sb := New(Config{})
	code := "t = 0\nfor i in range(1000000):\n    t += i * i % 7\nprint(t)"
	for i := 0; i < b.N; i++ {
		if _, err := sb.Run(context.Background(), code); err != nil {
			b.Fatal(err)
		}
	}
}
