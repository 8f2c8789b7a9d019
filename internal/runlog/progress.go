package runlog

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Bar is a progress bar for one phase. On a terminal it redraws one line in
// place (at most ten times a second); elsewhere (nohup, CI, a cluster's log
// collector) it prints a plain progress line every PlainEvery, so a log
// shows the run is alive without filling up, and Done's summary line.
type Bar struct {
	w      io.Writer
	tty    bool
	name   string
	total  int
	start  time.Time
	last   time.Time
	suffix string
	now    func() time.Time // time.Now; a test's clock
}

// PlainEvery is the interval of the plain progress lines written when the
// output is not a terminal.
const PlainEvery = 10 * time.Second

// NewBar starts a bar of total units on w; tty says whether to draw.
func NewBar(w io.Writer, tty bool, name string, total int) *Bar {
	now := time.Now()
	return &Bar{w: w, tty: tty, name: name, total: total, start: now, last: now, now: time.Now}
}

// Set moves the bar to done units with a short status text.
func (b *Bar) Set(done int, status string) {
	b.suffix = status
	now := b.now()
	if !b.tty {
		if now.Sub(b.last) >= PlainEvery && done < b.total {
			b.last = now
			fmt.Fprintln(b.w, b.plainLine(done, now))
		}
		return
	}
	if done < b.total && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	fmt.Fprintf(b.w, "\r\033[K%s", b.line(done, now))
}

// plainLine is the line written instead of the bar when the output is not
// a terminal: no bar, no control characters.
func (b *Bar) plainLine(done int, now time.Time) string {
	return strings.TrimRight(fmt.Sprintf("%-10s %d/%d %s%s %s", b.name, done, b.total, now.Sub(b.start).Round(time.Second),
		b.eta(done, now), b.suffix), " ")
}

func (b *Bar) eta(done int, now time.Time) string {
	if done > 0 && done < b.total {
		el := now.Sub(b.start)
		left := time.Duration(float64(el) / float64(done) * float64(b.total-done))
		return " eta " + left.Round(time.Second).String()
	}
	return ""
}

func (b *Bar) line(done int, now time.Time) string {
	const width = 24
	frac := 0.0
	if b.total > 0 {
		frac = min(1, float64(done)/float64(b.total))
	}
	fill := int(frac * width)
	return fmt.Sprintf("%-10s [%s%s] %d/%d %s%s %s", b.name, strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		done, b.total, now.Sub(b.start).Round(time.Second), b.eta(done, now), b.suffix)
}

// Done ends the bar and prints summary as the phase's line.
func (b *Bar) Done(summary string) {
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
	fmt.Fprintf(b.w, "%-10s %s (%s)\n", b.name, summary, b.now().Sub(b.start).Round(100*time.Millisecond))
}

// Clear erases the bar's line so that other output can be printed.
func (b *Bar) Clear() {
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
}
