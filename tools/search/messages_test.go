package search

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCorpusLongLine: a line over the limit names its number and the
// limit, not "bufio.Scanner: token too long" (issue 20).
func TestCorpusLongLine(t *testing.T) {
	defer func(old int) { maxLine = old }(maxLine)
	maxLine = 1 << 20
	in := `{"id": "1", "contents": "a\nb"}` + "\n" + `{"id": "2", "contents": "` + strings.Repeat("x", 2<<20) + `"}` + "\n"
	_, err := ReadCorpus(strings.NewReader(in))
	require.Error(t, err)
	assert.Equal(t, "corpus line 2 is longer than 1 MiB, the most one passage may have", err.Error())
}
