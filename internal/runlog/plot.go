package runlog

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one line of a plot: points (X[i], Y[i]).
type Series struct {
	Name   string
	X, Y   []float64
	Points bool // draw markers only, no line (e.g. a few evaluations)
}

// Chart is one panel.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
}

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
}

func (c Chart) plot() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text, p.X.Label.Text, p.Y.Label.Text = c.Title, c.XLabel, c.YLabel
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	for i, s := range c.Series {
		if len(s.X) == 0 {
			continue
		}
		xy := make(plotter.XYs, len(s.X))
		for k := range s.X {
			xy[k].X, xy[k].Y = s.X[k], s.Y[k]
		}
		col := palette[i%len(palette)]
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %w", c.Title, err)
		}
		sc.Color = col
		sc.Radius = vg.Points(2.5)
		sc.Shape = draw.CircleGlyph{}
		if s.Points {
			sc.Radius = vg.Points(4)
			p.Add(sc)
			p.Legend.Add(s.Name, sc)
			continue
		}
		l, err := plotter.NewLine(xy)
		if err != nil {
			return nil, fmt.Errorf("plot %q: %w", c.Title, err)
		}
		l.Color = col
		l.Width = vg.Points(1.5)
		p.Add(l)
		if len(xy) <= 40 {
			p.Add(sc)
		}
		p.Legend.Add(s.Name, l)
	}
	return p, nil
}

// SavePNG draws the charts side by side in one PNG file.
func SavePNG(path string, charts ...Chart) error {
	if len(charts) == 0 {
		return nil
	}
	const w, h = 5 * vg.Inch, 3.6 * vg.Inch
	// Up to three charts in a row; more wrap onto rows of two, so that
	// the picture stays readable.
	cols := len(charts)
	if cols > 3 {
		cols = 2
	}
	rows := (len(charts) + cols - 1) / cols
	img := vgimgCanvas(w*vg.Length(cols), h*vg.Length(rows))
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	dc := draw.New(img)
	for i, c := range charts {
		p, err := c.plot()
		if err != nil {
			return err
		}
		p.Draw(tiles.At(dc, i%cols, i/cols))
	}
	return savePNG(path, img)
}
