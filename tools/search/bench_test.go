package search

import (
	"fmt"
	"testing"
)

// The targets: building an index of 100,000 passages in under
// 10 s and a query in under 2 ms. Passages are synthetic: 100 words each
// from a Zipf(1.1) vocabulary of 50,000 words, like Wikipedia passages
// (~100 words) in length. Run with
//
//	go test -run '^$' -bench 'Build100k|Query100k' -benchtime 3x ./tools/search
func BenchmarkBuild100k(b *testing.B) {
	docs := syntheticDocs(100_000, 100, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Build(docs, DefaultParams)
	}
}

func BenchmarkQuery100k(b *testing.B) {
	ix := Build(syntheticDocs(100_000, 100, 1), DefaultParams)
	// Queries of 5 words mixing frequent and rare terms, as questions do.
	queries := make([]string, 64)
	for i := range queries {
		queries[i] = fmt.Sprintf("w%d w%d w%d w%d w%d", 1+i%7, 10+i*3, 100+i*17, 1000+i*31, 20000+i*101)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Search(queries[i%len(queries)], 3)
	}
}
