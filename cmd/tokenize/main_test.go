package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn/tokenizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trained writes a small trained tokenizer to a temp folder, so the command
// is tested without the shared data.
func trained(t *testing.T) string {
	text := strings.Repeat("the city was founded in 1984 and the river runs north. ", 50)
	tok, err := tokenizer.Train([]string{text}, 320, tokenizer.DefaultSpecials)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, tok.Save(p))
	return p
}

func call(args []string, stdin string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestEncodeDecode(t *testing.T) {
	p := trained(t)
	in := "the city <think>\xff\n"
	out, errOut, code := call([]string{"--tokenizer", p}, in)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, ",4,", "<think> is special id 4")
	back, errOut, code := call([]string{"--tokenizer", p, "--decode"}, out)
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, in, back)

	out, _, code = call([]string{"--tokenizer", p, "--ordinary"}, "<think>")
	require.Equal(t, 0, code)
	assert.NotEqual(t, "[4]\n", out)

	out, _, code = call([]string{"--tokenizer", p}, "")
	require.Equal(t, 0, code)
	assert.Equal(t, "[]\n", out)
}

func TestQwen3(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "tokenizers/qwen3/tokenizer.json"))
	out, errOut, code := call([]string{"--tokenizer", dir}, "Hello world<|im_end|>")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "[9707,1879,151645]\n", out)
}

func TestBadInput(t *testing.T) {
	p := trained(t)
	for name, c := range map[string]struct {
		args  []string
		stdin string
		msg   string
	}{
		"no tokenizer":   {nil, "x", "--tokenizer is required"},
		"missing file":   {[]string{"--tokenizer", "/nonexistent/tok.json"}, "x", "no such file"},
		"unknown flag":   {[]string{"--tokenizer", p, "--frobnicate"}, "x", "unknown flag"},
		"stray argument": {[]string{"--tokenizer", p, "text"}, "x", "unexpected arguments"},
		"not json":       {[]string{"--tokenizer", p, "--decode"}, "hello", "not a JSON array"},
		"bad id":         {[]string{"--tokenizer", p, "--decode"}, "[1, 99999]", "id 99999 (at index 1)"},
		"negative id":    {[]string{"--tokenizer", p, "--decode"}, "[-1]", "id -1"},
	} {
		_, errOut, code := call(c.args, c.stdin)
		assert.Equal(t, 2, code, name)
		assert.Contains(t, errOut, c.msg, name)
	}
}

// TestMaxInput: input over --max-input is refused with one line and exit 2
// (issue 20: no cap); input at the cap is encoded.
func TestMaxInput(t *testing.T) {
	p := trained(t)
	_, errOut, code := call([]string{"--tokenizer", p, "--max-input", "10"}, "the city was")
	assert.Equal(t, 2, code)
	assert.Equal(t, "tokenize: the input is over --max-input 10 bytes\n", errOut)
	out, errOut, code := call([]string{"--tokenizer", p, "--max-input", "8"}, "the city")
	require.Equal(t, 0, code, errOut)
	assert.True(t, strings.HasPrefix(out, "["), out)
	_, errOut, code = call([]string{"--tokenizer", p, "--max-input", "-1"}, "x")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--max-input must be >= 0")
}
