package account

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"
)

// BenchmarkRenderAvatar measures the whole upload pipeline (decode, crop,
// resize, encode) for a typical phone photo and for the largest uploads
// each format may have under the decode budget; B/op is the memory one
// upload allocates (README: "Avatars").
func BenchmarkRenderAvatar(b *testing.B) {
	for _, size := range []struct {
		name string
		data func(b *testing.B) []byte
	}{
		{"jpeg_4000x3000", func(b *testing.B) []byte { return LargePhoto(b, 4000, 3000) }},
		{"jpeg_7300x5470_40MP", func(b *testing.B) []byte { return LargePhoto(b, 7300, 5470) }},
		{"png_rgba_4550x4550_budget", func(b *testing.B) []byte { return gradientPNG(b, image.NewNRGBA(image.Rect(0, 0, 4550, 4550))) }},
		{"png_rgba64_3230x3230_budget", func(b *testing.B) []byte {
			return gradientPNG(b, image.NewNRGBA64(image.Rect(0, 0, 3230, 3230)))
		}},
	} {
		data := size.data(b)
		b.Run(size.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := defaultAvatarRules.render(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// gradientPNG fills m with a gradient with some transparency and encodes it.
func gradientPNG(b *testing.B, m interface {
	image.Image
	Set(x, y int, c color.Color)
}) []byte {
	r := m.Bounds()
	for y := range r.Dy() {
		for x := range r.Dx() {
			m.Set(x, y, color.NRGBA64{uint16(x * 13), uint16(y * 7), 0x8000, uint16(0xFFFF - x)})
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, m); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
