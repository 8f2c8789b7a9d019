package analysis

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
}

// minPlotUnits is the fewest trajectories with tokens after a tool's
// results for the tool to get a line in the plot (the table keeps it).
const minPlotUnits = 5

// errPoints are a profile's points with asymmetric error bars.
type errPoints struct {
	plotter.XYs
	lo, hi []float64 // distances below and above each Y
}

func (e errPoints) YError(i int) (float64, float64) { return e.lo[i], e.hi[i] }

// SavePlot draws the profile of r as a PNG file: entropy by offset from
// the end of a tool result with 95% interval bars, one line for all tools
// and one per tool seen in at least minPlotUnits trajectories, and the
// Initial and Later means as dashed reference lines.
func (r Report) SavePlot(path, title string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "tokens from the end of a tool result (negative: the call before it)"
	p.Y.Label.Text = "entropy / ln V"
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, tool := range r.Tools {
		if s, _ := r.Bucket(After, tool); tool != All && s.Units < minPlotUnits {
			continue // a handful of trajectories would only stretch the axis
		}
		var pts errPoints
		for _, s := range r.Profile {
			if s.Tool != tool || s.Tokens == 0 {
				continue
			}
			// Offsets -K..-1 sit left of 0, offsets 0.. right of it: x = offset+0.5
			// puts the result itself at 0 between them.
			pts.XYs = append(pts.XYs, plotter.XY{X: float64(s.Offset) + 0.5, Y: s.Mean})
			pts.lo, pts.hi = append(pts.lo, s.Mean-s.Lo), append(pts.hi, s.Hi-s.Mean)
		}
		if len(pts.XYs) == 0 {
			continue
		}
		col := palette[i%len(palette)]
		l, sc, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return fmt.Errorf("entropy plot: %w", err)
		}
		l.Color, sc.Color, sc.Shape = col, col, draw.CircleGlyph{}
		eb, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return fmt.Errorf("entropy plot: %w", err)
		}
		eb.Color = col
		p.Add(l, sc, eb)
		p.Legend.Add(tool, l, sc)
		if tool != All {
			continue
		}
		for j, b := range []Bucket{Initial, Later} {
			s, ok := r.Bucket(b, All)
			if !ok || s.Tokens == 0 {
				continue
			}
			ref, err := plotter.NewLine(plotter.XYs{{X: float64(-r.K), Y: s.Mean}, {X: float64(r.K), Y: s.Mean}})
			if err != nil {
				return fmt.Errorf("entropy plot: %w", err)
			}
			ref.Color = color.Gray{Y: uint8(80 + 60*j)}
			ref.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(ref)
			p.Legend.Add(fmt.Sprintf("%s (all)", b), ref)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("entropy plot: %w", err)
	}
	w, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "png")
	if err == nil {
		_, err = w.WriteTo(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("entropy plot %s: %w", path, err)
	}
	return nil
}
