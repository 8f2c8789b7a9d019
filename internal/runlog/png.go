package runlog

import (
	"io"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/vgimg"
)

func vgimgCanvas(w, h vg.Length) *vgimg.Canvas { return vgimg.New(w, h) }

// savePNG writes the canvas atomically.
func savePNG(path string, c *vgimg.Canvas) error {
	png := vgimg.PngCanvas{Canvas: c}
	return atomicWrite(path, func(w io.Writer) error {
		_, err := png.WriteTo(w)
		return err
	})
}
