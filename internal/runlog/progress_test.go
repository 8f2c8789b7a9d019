package runlog

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestBarPlainLines: when the output is not a terminal, the bar prints a
// plain line (no control characters) every PlainEvery, not nothing (issue
// 20: seven silent minutes of SFT under nohup).
func TestBarPlainLines(t *testing.T) {
	var out bytes.Buffer
	b := NewBar(&out, false, "sft", 100)
	clock := b.start
	b.now = func() time.Time { return clock }

	step := func(done int, after time.Duration) {
		clock = clock.Add(after)
		b.Set(done, "loss 1.5")
	}
	step(1, time.Second)
	assert.Empty(t, out.String(), "nothing within the first interval")
	step(10, PlainEvery)
	assert.Equal(t, "sft        10/100 11s eta 1m39s loss 1.5\n", out.String())
	step(11, time.Second)
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "at most one line per interval")
	step(30, PlainEvery)
	assert.Equal(t, 2, strings.Count(out.String(), "\n"))
	b.Done("done")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Len(t, lines, 3)
	assert.Equal(t, "sft        done (22s)", lines[2])
	assert.NotContains(t, out.String(), "\r")
	assert.NotContains(t, out.String(), "\033")
}
