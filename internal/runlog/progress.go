package runlog

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Bar is a progress bar for one phase. On a terminal it redraws one line in
// place (at most ten times a second); elsewhere it draws nothing, so logs
// stay short, and only Done's summary line is printed.
type Bar struct {
	w      io.Writer
	tty    bool
	name   string
	total  int
	start  time.Time
	last   time.Time
	suffix string
}

// NewBar starts a bar of total units on w; tty says whether to draw.
func NewBar(w io.Writer, tty bool, name string, total int) *Bar {
	now := time.Now()
	return &Bar{w: w, tty: tty, name: name, total: total, start: now}
}

// Set moves the bar to done units with a short status text.
func (b *Bar) Set(done int, status string) {
	b.suffix = status
	if !b.tty {
		return
	}
	now := time.Now()
	if done < b.total && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	fmt.Fprintf(b.w, "\r\033[K%s", b.line(done, now))
}

func (b *Bar) line(done int, now time.Time) string {
	const width = 24
	frac := 0.0
	if b.total > 0 {
		frac = min(1, float64(done)/float64(b.total))
	}
	fill := int(frac * width)
	el := now.Sub(b.start)
	eta := ""
	if done > 0 && done < b.total {
		left := time.Duration(float64(el) / float64(done) * float64(b.total-done))
		eta = " eta " + left.Round(time.Second).String()
	}
	return fmt.Sprintf("%-10s [%s%s] %d/%d %s%s %s", b.name, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		done, b.total, el.Round(time.Second), eta, b.suffix)
}

// Done ends the bar and prints summary as the phase's line.
func (b *Bar) Done(summary string) {
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
	fmt.Fprintf(b.w, "%-10s %s (%s)\n", b.name, summary, time.Since(b.start).Round(100*time.Millisecond))
}

// Clear erases the bar's line so that other output can be printed.
func (b *Bar) Clear() {
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
