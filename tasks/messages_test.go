package tasks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadMessages: the messages of issue 20 item 10 that belong to
// dataset files.
func TestLoadMessages(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	// An empty file is an error naming it, not zero questions that later
	// read "all 0 questions went to the test split".
	for _, text := range []string{"", "\n\n  \n"} {
		p := write("empty.jsonl", text)
		_, err := Load(p, Options{})
		require.Error(t, err)
		assert.Equal(t, p+": no examples (the file is empty or only blank lines)", err.Error())
	}

	// The jsonl: prefix names the format whatever the extension.
	p := write("questions.txt", `{"question": "2+2?", "answer": "4"}`+"\n")
	ex, err := Load("jsonl:"+p, Options{})
	require.NoError(t, err)
	require.Len(t, ex, 1)
	assert.Equal(t, "4", ex[0].Answer)
	_, err = Load(p, Options{})
	assert.ErrorContains(t, err, "unknown dataset format")
	_, err = Load("parquet:"+p, Options{})
	assert.Error(t, err, "a JSONL file read as Parquet fails")

	// A line over the limit names its number and the limit, not
	// "bufio.Scanner: token too long".
	defer func(old int) { maxLine = old }(maxLine)
	maxLine = 1 << 20
	long := `{"question": "` + strings.Repeat("x", 2<<20) + `", "answer": "1"}`
	p = write("long.jsonl", `{"question": "q", "answer": "1"}`+"\n"+long+"\n")
	_, err = Load(p, Options{})
	require.Error(t, err)
	assert.Equal(t, p+": line 2 is longer than 1 MiB, the most one record may have", err.Error())
	_, err = LoadPassages(p)
	assert.ErrorContains(t, err, "line 2 is longer than 1 MiB")
	_, _, err = LoadHotpotLocal(p)
	assert.ErrorContains(t, err, "line 2 is longer than 1 MiB")
}
