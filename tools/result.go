package tools

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// FormatResult is the one place a tool's output enters the context:
// "<result>\n{output}\n</result>\n", with trailing white space (print's last
// newline) dropped and output cut to at most maxLen bytes (at a UTF-8
// boundary) with a marker saying so. maxLen <= 0 means no limit.
func FormatResult(output string, maxLen int) string {
	return "<result>\n" + Truncate(strings.TrimRight(output, " \t\r\n"), maxLen) + "\n</result>\n"
}

// Truncate cuts s to at most maxLen bytes of content plus a marker line
// telling the model how much was cut.
func Truncate(s string, maxLen int) string {
	if maxLen <= 0 || len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n[output truncated: %d of %d bytes shown]", cut, len(s))
}
