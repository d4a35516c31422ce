package account

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// The helpers below make real image files for the tests of this package
// and of account_test (which sees them because they are exported from a
// _test.go file of the package).

// Quadrants is a w×h image whose quarters are red (top left), green (top
// right), blue (bottom left) and white (bottom right), so any turn or
// mirror shows.
func Quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	colours := [2][2]color.RGBA{{{255, 0, 0, 255}, {0, 255, 0, 255}}, {{0, 0, 255, 255}, {255, 255, 255, 255}}}
	for y := range h {
		for x := range w {
			m.SetRGBA(x, y, colours[y*2/h][x*2/w])
		}
	}
	return m
}

// EncodeJPEG encodes m as a JPEG.
func EncodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// EncodePNG encodes m as a PNG.
func EncodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// LargePhoto is a w×h JPEG with smooth gradients, built directly in
// YCbCr so that even 12 megapixels encode quickly.
func LargePhoto(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	for y := range h {
		row := m.Y[y*m.YStride : y*m.YStride+w]
		for x := range row {
			row[x] = uint8((x*255/w + y*255/h) / 2)
		}
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = 110, 150
	}
	return EncodeJPEG(t, m)
}

// TransparentPNG is a w×h PNG whose centre circle is opaque orange and
// whose corners are fully transparent.
func TransparentPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	cx, cy, r := w/2, h/2, min(w, h)/2-1
	for y := range h {
		for x := range w {
			if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
				m.SetNRGBA(x, y, color.NRGBA{255, 140, 0, 255})
			}
		}
	}
	return EncodePNG(t, m)
}

// WithOrientation inserts an EXIF APP1 segment holding orientation o
// right after a JPEG's start-of-image marker, in big- or little-endian TIFF.
func WithOrientation(jpg []byte, o uint16, bigEndian bool) []byte {
	var order binary.AppendByteOrder = binary.LittleEndian
	tiff := []byte("II*\x00")
	if bigEndian {
		order, tiff = binary.BigEndian, []byte("MM\x00*")
	}
	tiff = order.AppendUint32(tiff, 8)      // first IFD right after the header
	tiff = order.AppendUint16(tiff, 1)      // one entry
	tiff = order.AppendUint16(tiff, 0x0112) // Orientation
	tiff = order.AppendUint16(tiff, 3)      // SHORT
	tiff = order.AppendUint32(tiff, 1)      // one value
	tiff = order.AppendUint16(tiff, o)
	tiff = append(tiff, 0, 0)          // value padding
	tiff = order.AppendUint32(tiff, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiff...)
	segment := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(payload)+2))
	segment = append(segment, payload...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, segment...)
	return append(out, jpg[2:]...)
}

// PNGBomb is a PNG header claiming w×h pixels of 8-bit RGBA, with a tiny
// image data chunk: cheap to send, ruinous to decode.
func PNGBomb(w, h uint32) []byte { return PNGHeader(w, h, 8, 6) }

// PNGHeader is a PNG that declares w×h pixels of the given bit depth and
// colour type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA) but carries
// no pixel data: what a decoder would need is judged from it alone.
func PNGHeader(w, h uint32, depth, colorType byte) []byte {
	chunk := func(typ string, data []byte) []byte {
		c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		c = append(c, typ...)
		c = append(c, data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0) // deflate, no filter, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	if colorType == 3 {
		out = append(out, chunk("PLTE", []byte{0, 0, 0, 255, 255, 255})...)
	}
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}
