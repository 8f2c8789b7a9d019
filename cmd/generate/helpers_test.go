package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/tokenizer"
)

// testConfig is a tiny Llama with grouped-query attention and a vocabulary
// large enough for a trained byte-level tokenizer.
func testConfig() nn.Config {
	return nn.Config{
		ModelType: "llama", VocabSize: 320, HiddenSize: 32, NumLayers: 2,
		NumHeads: 4, NumKVHeads: 2, HeadDim: 8, IntermediateSize: 48,
		RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 256,
	}
}

// testModel returns a model with weights large enough that its next-token
// distributions are far from uniform.
func testModel(t *testing.T, cfg nn.Config) *nn.Model {
	t.Helper()
	m, err := nn.New(cfg, cpu.New(1))
	require.NoError(t, err)
	nntest.RandomWeights(m, 3, 5, 0.3)
	return m
}

// testTokenizer trains a small byte-level BPE tokenizer with the default
// specials (ChatML markers, <|endoftext|> as end of sequence).
func testTokenizer(t *testing.T) *tokenizer.Tokenizer {
	t.Helper()
	texts := []string{strings.Repeat("the cat sat on the mat; héllo wörld 12+34=46. ", 20)}
	tk, err := tokenizer.Train(texts, 300, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	return tk
}

// modelDir writes a Hugging Face folder with the test model and, when
// withTokenizer, a trained tokenizer.
func modelDir(t *testing.T, withTokenizer bool) string {
	t.Helper()
	dir := t.TempDir()
	m := testModel(t, testConfig())
	defer m.Free()
	require.NoError(t, m.SaveHF(dir))
	if withTokenizer {
		require.NoError(t, testTokenizer(t).Save(filepath.Join(dir, "tokenizer.json")))
	}
	return dir
}

// writeFile writes data to dir/name.
func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(data), 0o644))
	return p
}

// runCmd runs the command with args and stdin; it returns the exit status,
// stdout and stderr.
func runCmd(stdin string, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}
