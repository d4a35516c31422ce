package billing

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"

	"github.com/go-pdf/fpdf"
	"github.com/go-text/typesetting/di"
	"github.com/go-text/typesetting/font"
	ot "github.com/go-text/typesetting/font/opentype"
	"github.com/go-text/typesetting/language"
	"github.com/go-text/typesetting/shaping"
	"golang.org/x/image/math/fixed"
)

// The invoice PDF is English (fpdf's core Helvetica). A customer name in
// Arabic script (Urdu, say) needs what fpdf cannot do: contextual shaping
// (letters joined in their initial, medial and final forms, ligatures,
// marks placed) and right-to-left order. So such a name is shaped with
// go-text/typesetting (a Go port of HarfBuzz) in Noto Naskh Arabic and
// each shaped glyph is drawn as the font's own outline, placed where the
// shaper put it: what the reader sees is exactly what HarfBuzz lays out,
// whatever the PDF viewer. Outlines are not text, so the same name is
// also written, invisibly (text render mode 3, as OCR layers are), in the
// same font in logical order, so copying, searching and pdftotext find
// the name itself.

//go:embed fonts/NotoNaskhArabic-Regular.ttf
var naskhTTF []byte

var naskh = sync.OnceValues(func() (*font.Face, error) {
	face, err := font.ParseTTF(bytes.NewReader(naskhTTF))
	if err != nil {
		return nil, fmt.Errorf("parse Noto Naskh Arabic: %w", err)
	}
	return face, nil
})

// needsShaping reports whether s has Arabic-script letters.
func needsShaping(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Arabic, r) {
			return true
		}
	}
	return false
}

// visualOrder reverses a right-to-left string for left-to-right
// placement, keeping each combining mark after its base letter.
func visualOrder(s string) string {
	var clusters [][]rune
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) && len(clusters) > 0 {
			clusters[len(clusters)-1] = append(clusters[len(clusters)-1], r)
			continue
		}
		clusters = append(clusters, []rune{r})
	}
	var sb strings.Builder
	for i := len(clusters) - 1; i >= 0; i-- {
		sb.WriteString(string(clusters[i]))
	}
	return sb.String()
}

// shapedRun is text shaped right to left: glyphs in visual order (left to
// right), in font units.
type shapedRun struct {
	face    *font.Face
	upem    float64
	glyphs  []shaping.Glyph
	advance float64 // font units
}

// shapeRTL shapes s as one right-to-left Arabic-script run.
func shapeRTL(s string) (shapedRun, error) {
	face, err := naskh()
	if err != nil {
		return shapedRun{}, err
	}
	runes := []rune(s)
	upem := float64(face.Upem())
	out := (&shaping.HarfbuzzShaper{}).Shape(shaping.Input{
		Text: runes, RunStart: 0, RunEnd: len(runes), Direction: di.DirectionRTL, Face: face,
		Size: fixed.I(int(face.Upem())), Script: language.Arabic, Language: language.NewLanguage("ur"),
	})
	// Size = upem, so the shaper's 26.6 values are font units.
	return shapedRun{face: face, upem: upem, glyphs: out.Glyphs, advance: float64(out.Advance) / 64}, nil
}

// width is the run's width in points at size.
func (r shapedRun) width(size float64) float64 { return r.advance * size / r.upem }

// draw fills the run's glyph outlines with the baseline at y and the run's
// left edge at x (points, fpdf's y grows downwards).
func (r shapedRun) draw(pdf *fpdf.Fpdf, x, y, size float64) {
	scale := size / r.upem
	pen := 0.0
	for _, g := range r.glyphs {
		outline, ok := r.face.GlyphDataOutline(g.GlyphID)
		gx := x + (pen+float64(g.XOffset)/64)*scale
		gy := y - float64(g.YOffset)/64*scale
		pen += float64(g.Advance) / 64
		if !ok || len(outline.Segments) == 0 {
			continue
		}
		px := func(p ot.SegmentPoint) (float64, float64) { return gx + float64(p.X)*scale, gy - float64(p.Y)*scale }
		for _, seg := range outline.Segments {
			switch seg.Op {
			case ot.SegmentOpMoveTo:
				pdf.MoveTo(px(seg.Args[0]))
			case ot.SegmentOpLineTo:
				pdf.LineTo(px(seg.Args[0]))
			case ot.SegmentOpQuadTo:
				cx, cy := px(seg.Args[0])
				ex, ey := px(seg.Args[1])
				pdf.CurveTo(cx, cy, ex, ey)
			case ot.SegmentOpCubeTo:
				c0x, c0y := px(seg.Args[0])
				c1x, c1y := px(seg.Args[1])
				ex, ey := px(seg.Args[2])
				pdf.CurveBezierCubicTo(c0x, c0y, c1x, c1y, ex, ey)
			}
		}
		pdf.ClosePath()
		pdf.DrawPath("F") // nonzero winding, as TrueType outlines are drawn
	}
}

// WritePDF renders inv as an A4 PDF to w.
func WritePDF(w io.Writer, inv Invoice) error {
	pdf := fpdf.New("P", "pt", "A4", "")
	pdf.SetTitle("Invoice "+inv.Number, true)
	pdf.SetAuthor("Callboard", true)
	pdf.SetCreator("Callboard", true)
	pdf.SetCompression(true)
	pdf.SetMargins(50, 50, 50)
	pdf.SetAutoPageBreak(true, 60)
	pdf.AddPage()
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252 for the core fonts
	pageW, _ := pdf.GetPageSize()
	right := pageW - 50

	pdf.SetFont("Helvetica", "B", 22)
	pdf.CellFormat(0, 28, "Callboard", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 14, "AI voice calling for your business", "", 1, "L", false, 0, "")
	pdf.Ln(16)

	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 22, "Invoice "+inv.Number, "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	status := strings.ToUpper(inv.Status)
	for _, kv := range [][2]string{
		{"Status", status},
		{"Issued", inv.IssuedAt.Format(dateLayout)},
		{"Due", inv.DueAt.Format(dateLayout)},
		{"Period", inv.PeriodStart.Format(dateLayout) + " - " + inv.PeriodEnd.Format(dateLayout)},
		{"Plan", inv.Plan},
		{"Currency", inv.Total.Currency},
	} {
		pdf.CellFormat(80, 14, kv[0], "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 14, tr(kv[1]), "", 1, "L", false, 0, "")
	}
	if inv.PaidAt != nil {
		pdf.CellFormat(80, 14, "Paid", "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 14, inv.PaidAt.Format(dateLayout), "", 1, "L", false, 0, "")
	}
	pdf.Ln(12)

	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, 16, "Bill to", "", 1, "L", false, 0, "")
	if err := customerName(pdf, tr, inv.Customer.Name); err != nil {
		return err
	}
	pdf.SetFont("Helvetica", "", 10)
	for _, line := range []string{inv.Customer.Email, inv.Customer.Phone} {
		if line != "" {
			pdf.CellFormat(0, 14, tr(line), "", 1, "L", false, 0, "")
		}
	}
	pdf.Ln(16)

	// InvoiceLine items.
	cols := []float64{right - 50 - 200, 50, 75, 75}
	pdf.SetFont("Helvetica", "B", 10)
	pdf.SetFillColor(238, 240, 244)
	for i, h := range []string{"Description", "Qty", "Unit price", "Amount"} {
		align := "R"
		if i == 0 {
			align = "L"
		}
		pdf.CellFormat(cols[i], 18, h, "B", 0, align, true, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 9)
	for _, l := range inv.Lines {
		y := pdf.GetY()
		pdf.MultiCell(cols[0], 13, tr(l.Description), "", "L", false)
		h := pdf.GetY() - y
		pdf.SetXY(50+cols[0], y)
		pdf.CellFormat(cols[1], 13, fmt.Sprint(l.Quantity), "", 0, "R", false, 0, "")
		pdf.CellFormat(cols[2], 13, l.UnitAmount.String(), "", 0, "R", false, 0, "")
		pdf.CellFormat(cols[3], 13, l.Amount.String(), "", 0, "R", false, 0, "")
		pdf.SetXY(50, y+max(h, 13)+4)
	}
	pdf.Line(50, pdf.GetY(), right, pdf.GetY())
	pdf.Ln(6)
	for _, kv := range []struct {
		label string
		m     Amount
		bold  bool
	}{{"Subtotal", inv.Subtotal, false}, {"Total", inv.Total, true}} {
		style := ""
		if kv.bold {
			style = "B"
		}
		pdf.SetFont("Helvetica", style, 10)
		pdf.SetX(50 + cols[0] + cols[1])
		pdf.CellFormat(cols[2], 16, kv.label, "", 0, "R", false, 0, "")
		pdf.CellFormat(cols[3], 16, kv.m.String(), "", 1, "R", false, 0, "")
	}
	amountDue := inv.Total
	if inv.Status != InvoiceOpen {
		amountDue.Amount = 0
	}
	pdf.SetFont("Helvetica", "B", 10)
	pdf.SetX(50 + cols[0] + cols[1])
	pdf.CellFormat(cols[2], 16, "Amount due", "", 0, "R", false, 0, "")
	pdf.CellFormat(cols[3], 16, amountDue.String(), "", 1, "R", false, 0, "")

	pdf.Ln(24)
	pdf.SetFont("Helvetica", "", 8)
	pdf.MultiCell(0, 11, "Amounts are in "+inv.Total.Currency+". Prorated amounts are computed to the day and rounded half up, "+
		"per line, to the currency's minor unit; the total is the sum of the lines.", "", "L", false)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("render invoice: %w", err)
	}
	return pdf.Output(w)
}

// customerName writes the customer's name on its own line: Latin names in
// Helvetica; Arabic-script names shaped, right-aligned to the left column
// as right-to-left text reads, with an invisible text layer.
func customerName(pdf *fpdf.Fpdf, tr func(string) string, name string) error {
	const size = 14.0
	if name == "" {
		return nil
	}
	if !needsShaping(name) {
		pdf.SetFont("Helvetica", "", 12)
		pdf.CellFormat(0, 16, tr(name), "", 1, "L", false, 0, "")
		return nil
	}
	run, err := shapeRTL(name)
	if err != nil {
		return err
	}
	x, y := pdf.GetX(), pdf.GetY()
	baseline := y + size
	w := run.width(size)
	pdf.SetFillColor(0, 0, 0)
	run.draw(pdf, x, baseline, size)
	// The text layer: the same characters in the same font, invisible,
	// over the drawn glyphs, in visual order (left to right), as PDF text
	// is laid out; extractors read Arabic-script text right to left back
	// into logical order.
	pdf.AddUTF8FontFromBytes("naskh", "", naskhTTF)
	pdf.SetFont("naskh", "", size)
	pdf.SetTextRenderingMode(3)
	pdf.SetXY(x, y)
	pdf.CellFormat(w, size*1.4, visualOrder(name), "", 1, "L", false, 0, "")
	pdf.SetTextRenderingMode(0)
	pdf.SetXY(x, y+size*1.6)
	return nil
}
