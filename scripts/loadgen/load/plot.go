package load

import (
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

var (
	colP50    = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	colP99    = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	colMax    = color.RGBA{R: 214, G: 39, B: 40, A: 255}
	colDots   = color.NRGBA{R: 110, G: 110, B: 110, A: 110}
	colOther  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	colPhase  = color.RGBA{R: 120, G: 120, B: 120, A: 255}
	eventCols = map[string]color.RGBA{
		EventReboot:       {R: 31, G: 119, B: 180, A: 255},
		EventKill9:        {R: 214, G: 39, B: 40, A: 255},
		EventSegv:         {R: 148, G: 103, B: 189, A: 255},
		EventFatal:        {R: 140, G: 86, B: 75, A: 255},
		EventAngelUpgrade: {R: 44, G: 160, B: 44, A: 255},
		EventBroken:       {R: 255, G: 127, B: 14, A: 255},
	}
)

// marks draws vertical lines across a plot: the events and the phases.
type marks struct {
	rep *Report
}

func (m marks) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, _ := plt.Transforms(&c)
	line := func(x float64, col color.Color, dashed bool, width vg.Length, label string) {
		if x < plt.X.Min || x > plt.X.Max {
			return
		}
		px := trX(x)
		st := draw.LineStyle{Color: col, Width: width}
		if dashed {
			st.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		c.StrokeLine2(st, px, c.Min.Y, px, c.Max.Y)
		if label != "" {
			ts := draw.TextStyle{Color: col, Font: plot.DefaultFont, Handler: plot.DefaultTextHandler,
				XAlign: draw.XLeft, YAlign: draw.YTop}
			ts.Font.Size = vg.Points(8)
			c.FillText(ts, vg.Point{X: px + vg.Points(2), Y: c.Max.Y - vg.Points(2)}, label)
		}
	}
	ph := m.rep.Phases
	line(ph.WorkloadStart, colPhase, true, vg.Points(0.8), "")
	line(ph.WorkloadEnd, colPhase, true, vg.Points(0.8), "")
	for _, e := range m.rep.Events {
		col, ok := eventCols[e.Kind]
		if !ok {
			col = colOther
		}
		line(e.Start, col, false, vg.Points(1.2), e.Kind)
		if e.End-e.Start > 0.05 {
			line(e.End, col, true, vg.Points(0.8), "")
		}
	}
}

// ticks125 labels a log axis at 1, 2 and 5 times each power of ten.
type ticks125 struct{}

func (ticks125) Ticks(min, max float64) []plot.Tick {
	var out []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		p := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', 3, 64)
			}
			out = append(out, t)
		}
	}
	return out
}

func newPanel(title, ylabel string, xmax float64) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.Text = ylabel
	p.X.Label.Text = "seconds since start"
	p.X.Min, p.X.Max = 0, xmax
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.TextStyle.Font.Size = vg.Points(8)
	p.Add(plotter.NewGrid())
	return p
}

func addLine(p *plot.Plot, pts plotter.XYs, col color.Color, name string) {
	if len(pts) == 0 {
		return
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.Color = col
	l.Width = vg.Points(1.2)
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
}

// WritePlot draws the run as a PNG: own-echo latency over time (every line
// as a dot, per-second p50/p99/max as lines), deliveries per second, and the
// talker's memory and descriptors, with the events marked.
func (rep *Report) WritePlot(w io.Writer) error {
	xmax := math.Max(rep.Phases.DrainEnd, 1)
	// Latency and throughput exist only during the workload: after a long
	// login ramp they get their own time range.
	wmin := math.Max(0, rep.Phases.WorkloadStart-1)
	mk := marks{rep}

	lat := newPanel("own-echo latency (send to echo), log scale", "ms", xmax)
	lat.X.Min = wmin
	lat.Y.Scale = plot.LogScale{}
	lat.Y.Tick.Marker = ticks125{}
	const floor = 0.01 // ms; the log scale needs > 0
	var dots plotter.XYs
	stride := max(1, len(rep.echoPoints)/20000)
	for i := 0; i < len(rep.echoPoints); i += stride {
		p := rep.echoPoints[i]
		dots = append(dots, plotter.XY{X: float64(p.at) / 1e9, Y: math.Max(float64(p.lat)/1e6, floor)})
	}
	var p50, p99, pmax plotter.XYs
	for _, s := range rep.Series {
		if s.EchoMax > 0 && float64(s.T)+0.5 <= xmax {
			x := float64(s.T) + 0.5
			p50 = append(p50, plotter.XY{X: x, Y: math.Max(s.EchoP50, floor)})
			p99 = append(p99, plotter.XY{X: x, Y: math.Max(s.EchoP99, floor)})
			pmax = append(pmax, plotter.XY{X: x, Y: math.Max(s.EchoMax, floor)})
		}
	}
	if len(dots) > 0 {
		sc, err := plotter.NewScatter(dots)
		if err == nil {
			sc.GlyphStyle.Color = colDots
			sc.GlyphStyle.Radius = vg.Points(1)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			lat.Add(sc)
			lat.Legend.Add("each line", sc)
		}
	} else {
		// An empty log-scale axis cannot be drawn.
		lat.Y.Min, lat.Y.Max = floor, 1
	}
	addLine(lat, p50, colP50, "p50 per second")
	addLine(lat, p99, colP99, "p99")
	addLine(lat, pmax, colMax, "max")
	lat.Add(mk)

	thr := newPanel("deliveries per second (lines heard by other clients)", "per second", xmax)
	thr.X.Min = wmin
	var dps plotter.XYs
	for _, s := range rep.Series {
		if float64(s.T)+0.5 > xmax {
			break
		}
		if float64(s.T)+0.5 < wmin {
			continue
		}
		dps = append(dps, plotter.XY{X: float64(s.T) + 0.5, Y: float64(s.Deliveries)})
	}
	addLine(thr, dps, colP50, "deliveries/s")
	thr.Y.Min = 0
	thr.Add(mk)

	mem := newPanel("talker memory (VmRSS)", "MB", xmax)
	fds := newPanel("talker descriptors and logged-in clients", "count", xmax)
	var rss, fd, conn plotter.XYs
	for _, s := range rep.Samples {
		if s.PID == 0 {
			continue
		}
		rss = append(rss, plotter.XY{X: s.T, Y: float64(s.RSSKB) / 1024})
		fd = append(fd, plotter.XY{X: s.T, Y: float64(s.FDs)})
	}
	for _, s := range rep.Samples {
		conn = append(conn, plotter.XY{X: s.T, Y: float64(s.Connected)})
	}
	addLine(mem, rss, colP50, "RSS")
	mem.Y.Min = 0
	mem.Add(mk)
	addLine(fds, fd, colP99, "talker fds")
	addLine(fds, conn, colP50, "clients logged in")
	fds.Y.Min = 0
	fds.Add(mk)

	const width, height = 30 * vg.Centimeter, 36 * vg.Centimeter
	img := vgimg.New(width, height)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 4, Cols: 1, PadTop: vg.Points(6), PadBottom: vg.Points(6),
		PadLeft: vg.Points(6), PadRight: vg.Points(12), PadY: vg.Points(12)}
	plots := [][]*plot.Plot{{lat}, {thr}, {mem}, {fds}}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
	return err
}
