package digest

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strconv"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// Charts are PNG, drawn here with no fonts to install (basicfont's 7x13
// ASCII face) and embedded in the email as cid: parts: Gmail and Outlook
// show neither inline SVG nor data: URIs in an email, and a remote image
// would be an external fetch. The HTML archive and the PDF carry the same
// bytes as data: URIs.

var (
	colPositive = color.RGBA{0x2e, 0x9e, 0x5b, 0xff}
	colNeutral  = color.RGBA{0xb8, 0xbe, 0xc6, 0xff}
	colNegative = color.RGBA{0xd6, 0x45, 0x45, 0xff}
	colOther    = color.RGBA{0x8a, 0x94, 0xa6, 0xff} // mentions without a sentiment label
	colPrevious = color.RGBA{0x22, 0x36, 0x6b, 0xff}
	colAxis     = color.RGBA{0x55, 0x5b, 0x66, 0xff}
	colGrid     = color.RGBA{0xe6, 0xe8, 0xeb, 0xff}
)

// ChartWidth and ChartHeight are the volume chart's size in pixels.
const (
	ChartWidth  = 640
	ChartHeight = 240
)

// VolumeChart draws the period's mentions per bucket as bars stacked by
// sentiment, and the previous period's per bucket (same offset from its
// start) as a dark line. loc labels the time axis.
func VolumeChart(r *Report, loc *time.Location) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, ChartWidth, ChartHeight))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	const left, right, top, bottom = 48, 12, 12, 42
	w, h := ChartWidth-left-right, ChartHeight-top-bottom
	n := int(r.Until.Sub(r.Since) / r.Bucket)
	if r.Until.Sub(r.Since)%r.Bucket != 0 {
		n++
	}
	n = max(n, 1)
	cur := make([]Bucket, n)
	prev := make([]int64, n)
	var peak int64 = 1
	for _, b := range r.Volume {
		if i := int(b.Start.Sub(r.Since) / r.Bucket); i >= 0 && i < n {
			cur[i] = b
			peak = max(peak, b.Mentions)
		}
	}
	for _, b := range r.PrevVolume {
		if i := int(b.Start.Sub(r.Previous) / r.Bucket); i >= 0 && i < n {
			prev[i] = b.Mentions
			peak = max(peak, b.Mentions)
		}
	}
	scale := niceCeil(peak)
	y := func(v int64) int { return top + h - int(float64(v)/float64(scale)*float64(h)) }
	// grid and y labels
	ticks := int64(5)
	if m := scale; m >= 2 {
		for m%10 == 0 {
			m /= 10
		}
		if m == 2 {
			ticks = 4
		}
	}
	if scale < ticks {
		ticks = scale
	}
	for i := int64(0); i <= ticks; i++ {
		v := scale * i / ticks
		fill(img, left, y(v), left+w, y(v)+1, colGrid)
		label(img, 4, y(v)+4, strconv.FormatInt(v, 10), colAxis)
	}
	barW := float64(w) / float64(n)
	for i, b := range cur {
		x0 := left + int(float64(i)*barW) + 1
		x1 := left + int(float64(i+1)*barW) - 1
		if x1 <= x0 {
			x1 = x0 + 1
		}
		other := b.Mentions - b.Positive - b.Neutral - b.Negative
		base := int64(0)
		for _, part := range []struct {
			v int64
			c color.Color
		}{{b.Negative, colNegative}, {b.Neutral, colNeutral}, {b.Positive, colPositive}, {max(other, 0), colOther}} {
			fill(img, x0, y(base+part.v), x1, y(base), part.c)
			base += part.v
		}
	}
	// previous period: a line through the bucket centres
	for i := 0; i+1 < n; i++ {
		line(img, left+int((float64(i)+0.5)*barW), y(prev[i]), left+int((float64(i)+1.5)*barW), y(prev[i+1]), colPrevious)
	}
	if n == 1 {
		fill(img, left, y(prev[0])-1, left+w, y(prev[0])+1, colPrevious)
	}
	fill(img, left, top+h, left+w, top+h+1, colAxis)
	// x labels: up to 6, in the audience's zone
	layout := "Mon 02 Jan"
	if r.Bucket < 24*time.Hour {
		layout = "Mon 15:04"
	}
	step := max(1, n/6)
	for i := 0; i < n; i += step {
		x := left + int(float64(i)*barW)
		fill(img, x, top+h, x+1, top+h+4, colAxis)
		label(img, x, top+h+16, r.Since.Add(time.Duration(i)*r.Bucket).In(loc).Format(layout), colAxis)
	}
	// legend
	lx := left
	for _, l := range []struct {
		s string
		c color.Color
	}{{"negative", colNegative}, {"neutral", colNeutral}, {"positive", colPositive}, {"unlabelled", colOther}, {"previous period", colPrevious}} {
		fill(img, lx, ChartHeight-13, lx+10, ChartHeight-5, l.c)
		label(img, lx+14, ChartHeight-4, l.s, colAxis)
		lx += 14 + 7*len(l.s) + 12
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v int64) int64 {
	p := int64(1)
	for {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= v {
				return m * p
			}
		}
		if p > 1e17 {
			return v
		}
		p *= 10
	}
}

func fill(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	if y1 < y0 {
		y0, y1 = y1, y0
	}
	draw.Draw(img, image.Rect(x0, y0, x1, y1), &image.Uniform{c}, image.Point{}, draw.Src)
}

func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	steps := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= steps; i++ {
		x := x0 + (x1-x0)*i/steps
		y := y0 + (y1-y0)*i/steps
		fill(img, x, y-1, x+2, y+1, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func label(img *image.RGBA, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: &image.Uniform{c}, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
