package search

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	assert.Equal(t, []string{"capital", "city", "france", "1889"}, Tokenize("The Capital Cities of FRANCE, in 1889?"))
	assert.Equal(t, []string{"horse", "cat", "glass", "status", "café"}, Tokenize("horses cats glass status Cafés"))
	assert.Empty(t, Tokenize(" ,.!? the of "))
	assert.Equal(t, "city", Stem("cities"))
	assert.Equal(t, "agree", Stem("agrees"))
	assert.Equal(t, "shoe", Stem("shoes"))
}

const smallCorpus = `{"id": "1", "title": "Paris", "text": "Paris is the capital and largest city of France."}
{"id": "2", "title": "Berlin", "text": "Berlin is the capital of Germany and its largest city."}

{"id": 3, "contents": "\"Eiffel Tower\"\nThe Eiffel Tower is a wrought-iron lattice tower in Paris, built in 1889."}
{"id": "4", "title": "Horse", "text": "Horses are domesticated mammals."}
`

func smallIndex(t *testing.T) *Index {
	docs, err := ReadCorpus(strings.NewReader(smallCorpus))
	require.NoError(t, err)
	return Build(docs, DefaultParams)
}

func TestReadCorpus(t *testing.T) {
	docs, err := ReadCorpus(strings.NewReader(smallCorpus))
	require.NoError(t, err)
	require.Len(t, docs, 4)
	assert.Equal(t, Doc{ID: "3", Title: `"Eiffel Tower"`, Text: "The Eiffel Tower is a wrought-iron lattice tower in Paris, built in 1889."}, docs[2])
	assert.Equal(t, "\"Eiffel Tower\"\nThe Eiffel Tower is a wrought-iron lattice tower in Paris, built in 1889.", docs[2].Contents())

	_, err = ReadCorpus(strings.NewReader("{\"id\":\"1\",\"text\":\"ok\"}\n{bad json\n"))
	require.ErrorContains(t, err, "line 2")
}

func TestSearchRanks(t *testing.T) {
	ix := smallIndex(t)
	hits := ix.Search("capital of Germany", 2)
	require.Len(t, hits, 2)
	assert.Equal(t, "2", ix.Docs[hits[0].Doc].ID)
	assert.Greater(t, hits[0].Score, hits[1].Score)

	hits = ix.Search("when was the eiffel tower built", 3)
	require.NotEmpty(t, hits)
	assert.Equal(t, "3", ix.Docs[hits[0].Doc].ID)
	assert.Equal(t, "4", ix.Docs[ix.Search("horse", 1)[0].Doc].ID, "plural folded")
	assert.Empty(t, ix.Search("zzz qqq", 3))
	assert.Empty(t, ix.Search("", 3))
	assert.Empty(t, ix.Search("paris", 0))
	assert.Len(t, ix.Search("paris capital city", 10), 3, "only matching passages")

	out := FormatHits(ix.Passages(ix.Search("eiffel", 1)))
	assert.Equal(t, `Doc 1(Title: "Eiffel Tower") The Eiffel Tower is a wrought-iron lattice tower in Paris, built in 1889.`, out)
	assert.Equal(t, "No results found.", FormatHits(nil))
}

// TestBM25Score checks one score against the formula by hand.
func TestBM25Score(t *testing.T) {
	docs := []Doc{{ID: "a", Text: "apple apple pear"}, {ID: "b", Text: "pear plum"}, {ID: "c", Text: "plum"}}
	ix := Build(docs, Params{K1: 1.2, B: 0.75})
	hits := ix.Search("apple", 1)
	require.Len(t, hits, 1)
	idf := math.Log(1 + (3-1+0.5)/(1+0.5)) // N = 3, df = 1
	avg := 2.0
	want := idf * 2 * 2.2 / (2 + 1.2*(1-0.75+0.75*3/avg))
	assert.InDelta(t, want, hits[0].Score, 1e-5)
}

func syntheticDocs(n, words int, seed int64) []Doc {
	rng := rand.New(rand.NewSource(seed))
	zipf := rand.NewZipf(rng, 1.1, 1, 49999)
	docs := make([]Doc, n)
	var b strings.Builder
	for i := range docs {
		b.Reset()
		for w := 0; w < words; w++ {
			fmt.Fprintf(&b, "w%d ", zipf.Uint64())
		}
		docs[i] = Doc{ID: fmt.Sprint(i), Title: fmt.Sprintf("t%d", i), Text: b.String()}
	}
	return docs
}

func TestSaveLoadAndDeterminism(t *testing.T) {
	docs := syntheticDocs(2000, 40, 7)
	a := Build(docs, DefaultParams)
	dir := t.TempDir()
	require.NoError(t, a.Save(dir))
	b, err := Load(dir)
	require.NoError(t, err)
	c := Build(docs, DefaultParams)
	assert.Equal(t, a.Terms, c.Terms, "term ids do not depend on scheduling")
	for _, q := range []string{"w1 w2", "w10 w300 w7", "w4000", "t17"} {
		assert.Equal(t, a.Search(q, 5), b.Search(q, 5), q)
		assert.Equal(t, a.Search(q, 5), c.Search(q, 5), q)
	}

	// A damaged file is an error, not a panic.
	path := filepath.Join(dir, indexFile)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data[:len(data)/2], 0o644))
	_, err = Load(dir)
	require.Error(t, err)
	_, err = Load(t.TempDir())
	require.Error(t, err)
}

// TestHotpotDistractor checks retrieval quality on a real corpus: the
// contexts of 600 HotpotQA questions, searched with the questions.
func TestHotpotDistractor(t *testing.T) {
	path := shareddata.Path(t, "eval/hotpotqa_distractor_600.jsonl")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	type rec struct {
		Question   string              `json:"question"`
		Context    [][]json.RawMessage `json:"context"`
		Supporting [][]json.RawMessage `json:"supporting_facts"`
	}
	seen := map[string]bool{}
	var docs []Doc
	var qs []string
	var gold []map[string]bool
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var r rec
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		g := map[string]bool{}
		for _, s := range r.Supporting {
			var title string
			require.NoError(t, json.Unmarshal(s[0], &title))
			g[title] = true
		}
		for _, c := range r.Context {
			var title string
			var sents []string
			require.NoError(t, json.Unmarshal(c[0], &title))
			require.NoError(t, json.Unmarshal(c[1], &sents))
			if !seen[title] {
				seen[title] = true
				docs = append(docs, Doc{ID: fmt.Sprint(len(docs)), Title: title, Text: strings.Join(sents, "")})
			}
		}
		qs, gold = append(qs, r.Question), append(gold, g)
	}
	require.NoError(t, sc.Err())
	ix := Build(docs, DefaultParams)
	found := 0
	for i, q := range qs {
		for _, d := range ix.Passages(ix.Search(q, 5)) {
			if gold[i][d.Title] {
				found++
				break
			}
		}
	}
	t.Logf("supporting passage in top 5: %d of %d", found, len(qs))
	// BM25 finds a supporting passage in the top 5 for most questions
	// (509 of 600 here); a broken tokenizer or scorer falls far below.
	assert.Greater(t, float64(found)/float64(len(qs)), 0.75, "found %d of %d", found, len(qs))
}
