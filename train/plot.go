package train

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// writePlot draws the training loss (top) and the test accuracy (bottom)
// per epoch as a PNG, written atomically.
func writePlot(write writeFunc, path, name string, hist []EpochLog) error {
	loss, testLoss, acc := make(plotter.XYs, len(hist)), make(plotter.XYs, len(hist)), make(plotter.XYs, len(hist))
	for i, h := range hist {
		loss[i] = plotter.XY{X: float64(h.Epoch), Y: h.Loss}
		testLoss[i] = plotter.XY{X: float64(h.Epoch), Y: h.TestLoss}
		acc[i] = plotter.XY{X: float64(h.Epoch), Y: 100 * h.TestAcc}
	}
	top := plot.New()
	top.Title.Text = name + ": loss per epoch"
	top.X.Label.Text = "epoch"
	top.Y.Label.Text = "cross-entropy"
	bottom := plot.New()
	bottom.Title.Text = name + ": test accuracy per epoch"
	bottom.X.Label.Text = "epoch"
	bottom.Y.Label.Text = "accuracy (%)"
	for _, p := range []*plot.Plot{top, bottom} {
		p.Add(plotter.NewGrid())
		p.X.Min, p.X.Max = 0.5, float64(hist[len(hist)-1].Epoch)+0.5
		p.X.Tick.Marker = epochTicks{}
	}
	top.Legend.Top = true // losses fall, accuracy rises: keep the legends off the lines
	if err := addLine(top, "training loss", loss, 0); err != nil {
		return err
	}
	if err := addLine(top, "test loss", testLoss, 1); err != nil {
		return err
	}
	if err := addLine(bottom, "test accuracy", acc, 2); err != nil {
		return err
	}
	const w, h = 16 * vg.Centimeter, 16 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadX: vg.Millimeter * 2, PadY: vg.Millimeter * 4}
	canvases := plot.Align([][]*plot.Plot{{top}, {bottom}}, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	return write(path, func(out io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(out)
		return err
	})
}

func addLine(p *plot.Plot, label string, xys plotter.XYs, ci int) error {
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	l.Color = plotColors[ci]
	pts.Color = plotColors[ci]
	pts.Shape = draw.CircleGlyph{}
	p.Add(l, pts)
	p.Legend.Add(label, l, pts)
	return nil
}

var plotColors = []color.Color{
	color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

// epochTicks marks whole epochs, at most about ten of them.
type epochTicks struct{}

func (epochTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := int(math.Ceil(lo)), int(math.Floor(hi))
	step := max(1, (last-first+9)/10)
	var t []plot.Tick
	for e := first; e <= last; e += step {
		t = append(t, plot.Tick{Value: float64(e), Label: strconv.Itoa(e)})
	}
	return t
}
