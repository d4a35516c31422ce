package account

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"callboard/internal/apperr"
)

func TestRenderAvatar(t *testing.T) {
	var gifFile bytes.Buffer
	if err := gif.Encode(&gifFile, Quadrants(40, 40), nil); err != nil {
		t.Fatal(err)
	}
	photo := EncodeJPEG(t, Quadrants(640, 480))
	cases := []struct {
		name     string
		data     []byte
		wantKind apperr.Kind // 0: accepted
		wantType string
	}{
		{"landscape jpeg", photo, 0, "image/jpeg"},
		{"portrait jpeg", EncodeJPEG(t, Quadrants(120, 500)), 0, "image/jpeg"},
		{"tiny jpeg is upscaled", EncodeJPEG(t, Quadrants(7, 5)), 0, "image/jpeg"},
		{"opaque png becomes jpeg", EncodePNG(t, Quadrants(400, 300)), 0, "image/jpeg"},
		{"transparent png stays png", TransparentPNG(t, 500, 400), 0, "image/png"},
		{"gif", gifFile.Bytes(), apperr.KindUnsupported, ""},
		{"text", []byte("hello, I am not a picture at all"), apperr.KindUnsupported, ""},
		{"html", []byte("<html><script>alert(1)</script></html>"), apperr.KindUnsupported, ""},
		{"empty", nil, apperr.KindUnsupported, ""},
		{"jpeg magic only", []byte("\xFF\xD8\xFF"), apperr.KindInvalid, ""},
		{"truncated jpeg", photo[:len(photo)/2], apperr.KindInvalid, ""},
		{"truncated png", EncodePNG(t, Quadrants(300, 300))[:200], apperr.KindInvalid, ""},
		{"png bomb", PNGBomb(10000, 10000), apperr.KindInvalid, ""},
		{"zero-size png", PNGBomb(0, 10), apperr.KindInvalid, ""},
		{"just over the pixel limit", PNGBomb(8000, 5001), apperr.KindInvalid, ""},
		{"over the byte limit", append(bytes.Clone(photo), make([]byte, MaxAvatarBytes)...), apperr.KindTooLarge, ""},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			out, err := defaultAvatarRules.render(tt.data)
			if tt.wantKind != 0 {
				e, ok := apperr.As(err)
				if !ok || e.Kind != tt.wantKind {
					t.Fatalf("err = %v, want kind %d", err, tt.wantKind)
				}
				if len(e.Fields) == 0 || e.Fields[0].Location != "body.avatar" {
					t.Fatalf("error does not name body.avatar: %+v", e)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.contentType != tt.wantType {
				t.Fatalf("content type %s, want %s", out.contentType, tt.wantType)
			}
			cfg, format, err := image.DecodeConfig(bytes.NewReader(out.data))
			if err != nil || cfg.Width != AvatarSize || cfg.Height != AvatarSize {
				t.Fatalf("output %s %dx%d (%v), want %dx%d", format, cfg.Width, cfg.Height, err, AvatarSize, AvatarSize)
			}
		})
	}
}

func TestRenderAvatarDropsMetadata(t *testing.T) {
	marker := []byte("secret-gps-and-camera-serial")
	jpg := EncodeJPEG(t, Quadrants(200, 200))
	// A COM segment (comments survive many naive resizers) and an EXIF one.
	com := append([]byte{0xFF, 0xFE, 0, byte(len(marker) + 2)}, marker...)
	withMeta := append(append(bytes.Clone(jpg[:2]), com...), WithOrientation(jpg, 1, true)[2:]...)
	out, err := defaultAvatarRules.render(withMeta)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out.data, marker) || bytes.Contains(out.data, []byte("Exif")) {
		t.Fatal("metadata survived re-encoding")
	}
}

// quadrantColours samples the centre of each quarter of m: top left, top
// right, bottom left, bottom right, as the nearest of r, g, b, w.
func quadrantColours(m image.Image) string {
	b := m.Bounds()
	var s []byte
	for _, p := range []image.Point{{1, 1}, {3, 1}, {1, 3}, {3, 3}} {
		r, g, bl, _ := m.At(b.Min.X+p.X*b.Dx()/4, b.Min.Y+p.Y*b.Dy()/4).RGBA()
		hi := func(v uint32) bool { return v > 0x8000 }
		switch {
		case hi(r) && hi(g) && hi(bl):
			s = append(s, 'w')
		case hi(r):
			s = append(s, 'r')
		case hi(g):
			s = append(s, 'g')
		case hi(bl):
			s = append(s, 'b')
		default:
			s = append(s, '?')
		}
	}
	return string(s)
}

// TestEXIFOrientation checks every orientation against the EXIF
// specification's own words ("the 0th row is the visual right-hand side",
// …) for a stored image whose quarters are r g / b w.
func TestEXIFOrientation(t *testing.T) {
	want := map[uint16]string{
		1: "rgbw", // as stored
		2: "grwb", // 0th row at top, 0th column at right: mirrored
		3: "wbgr", // 0th row at bottom, 0th column at right: turned 180°
		4: "bwrg", // 0th row at bottom, 0th column at left: mirrored vertically
		5: "rbgw", // 0th row at left, 0th column at top: transposed
		6: "brwg", // 0th row at right, 0th column at top: needs 90° clockwise
		7: "wgbr", // 0th row at right, 0th column at bottom: transversed
		8: "gwrb", // 0th row at left, 0th column at bottom: needs 90° anticlockwise
	}
	stored := EncodeJPEG(t, Quadrants(240, 160)) // landscape: the crop must stay centred too
	for o := uint16(1); o <= 8; o++ {
		for _, bigEndian := range []bool{true, false} {
			jpg := WithOrientation(stored, o, bigEndian)
			if got := jpegOrientation(jpg); got != int(o) {
				t.Fatalf("orientation %d read as %d", o, got)
			}
			out, err := defaultAvatarRules.render(jpg)
			if err != nil {
				t.Fatal(err)
			}
			m, err := jpeg.Decode(bytes.NewReader(out.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := quadrantColours(m); got != want[o] {
				t.Errorf("orientation %d (big endian %v): quarters %s, want %s", o, bigEndian, got, want[o])
			}
		}
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	jpg := EncodeJPEG(t, Quadrants(16, 16))
	withSix := WithOrientation(jpg, 6, true)
	xmp := append([]byte{0xFF, 0xE1, 0, 12}, "http://ns."...) // an XMP-like APP1 that is not EXIF
	cases := map[string]struct {
		data []byte
		want int
	}{
		"no exif":                  {jpg, 1},
		"not a jpeg":               {[]byte("GIF89a"), 1},
		"xmp segment before exif":  {append(append(bytes.Clone(withSix[:2]), xmp...), withSix[2:]...), 6},
		"orientation out of range": {WithOrientation(jpg, 9, false), 1},
		"segment length past end":  {withSix[:10], 1},
		"ifd offset past end": {func() []byte {
			b := bytes.Clone(withSix)
			copy(b[14:18], []byte{0xFF, 0xFF, 0xFF, 0xF0}) // MM IFD offset
			return b
		}(), 1},
	}
	for name, tt := range cases {
		if got := jpegOrientation(tt.data); got != tt.want {
			t.Errorf("%s: orientation %d, want %d", name, got, tt.want)
		}
	}
}

func TestTransparentPNGKeepsAlpha(t *testing.T) {
	out, err := defaultAvatarRules.render(TransparentPNG(t, 600, 400))
	if err != nil {
		t.Fatal(err)
	}
	m, err := png.Decode(bytes.NewReader(out.data))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, a := m.At(0, 0).RGBA(); a != 0 {
		t.Fatalf("corner alpha %d, want transparent", a)
	}
	if c := color.NRGBAModel.Convert(m.At(AvatarSize/2, AvatarSize/2)).(color.NRGBA); c.A != 255 || c.R < 200 {
		t.Fatalf("centre %v, want opaque orange", c)
	}
}

// FuzzAvatarDecode feeds arbitrary bytes through the whole avatar pipeline
// (sniffing, EXIF, dimension check, decode, crop, resize, encode): it must
// never panic, must refuse with a client-safe error, and whatever it
// accepts must come out as a square image of the configured size. Limits
// are shrunk so the fuzzer explores instead of decoding huge frames.
func FuzzAvatarDecode(f *testing.F) {
	small := Quadrants(24, 16)
	var seeds [][]byte
	for _, m := range []image.Image{small, Quadrants(3, 9)} {
		var j, p bytes.Buffer
		_ = jpeg.Encode(&j, m, nil)
		_ = png.Encode(&p, m)
		seeds = append(seeds, j.Bytes(), p.Bytes(), WithOrientation(j.Bytes(), 6, true), WithOrientation(j.Bytes(), 8, false))
	}
	var g bytes.Buffer
	_ = gif.Encode(&g, small, nil)
	var tp bytes.Buffer
	alpha := image.NewNRGBA(image.Rect(0, 0, 8, 8))
	alpha.SetNRGBA(3, 3, color.NRGBA{1, 2, 3, 128})
	_ = png.Encode(&tp, alpha)
	seeds = append(seeds, g.Bytes(), tp.Bytes(), PNGBomb(5000, 5000), PNGBomb(1, 1), []byte("\xFF\xD8\xFF\xE1\x00\x08Exif\x00\x00"), nil)
	for _, s := range seeds {
		f.Add(s)
	}
	rules := avatarRules{maxBytes: 1 << 20, maxPixels: 1 << 20, size: 32}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := rules.render(data)
		if err != nil {
			var e *apperr.Error
			if !errors.As(err, &e) {
				t.Fatalf("refusal is not a client error: %v", err)
			}
			return
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(out.data))
		if err != nil || cfg.Width != rules.size || cfg.Height != rules.size {
			t.Fatalf("accepted input rendered to %dx%d (%v)", cfg.Width, cfg.Height, err)
		}
	})
}

// jpegDeclaring is a small real JPEG whose frame header is rewritten to
// declare w×h pixels with the luma sampling factors hv (0x22: 4:2:0, 0x11:
// 4:4:4): its pixel data no longer matches, so only the header is judged.
func jpegDeclaring(t *testing.T, w, h uint16, hv byte) []byte {
	data := EncodeJPEG(t, Quadrants(64, 64))
	i := bytes.Index(data, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 in the encoded JPEG")
	}
	sof := data[i+4:]
	sof[1], sof[2], sof[3], sof[4] = byte(h>>8), byte(h), byte(w>>8), byte(w)
	sof[7] = hv
	return data
}

// The memory a decode would take is judged from the header, by bit depth and
// subsampling, and uploads over the budget are refused before decoding; a
// 16-bit PNG of 6300×6300 (40 megapixels, 317 MB decoded) no longer passes
// as an ordinary 40-megapixel image.
func TestAvatarDecodeBudget(t *testing.T) {
	cases := []struct {
		name   string
		data   []byte
		refuse bool
	}{
		{"16-bit RGBA png, 6300×6300", PNGHeader(6300, 6300, 16, 6), true},
		{"16-bit RGBA png, 3000×3000", PNGHeader(3000, 3000, 16, 6), false},
		{"16-bit grey png, 6300×6300", PNGHeader(6300, 6300, 16, 0), false},
		{"8-bit RGBA png, 5000×5000", PNGHeader(5000, 5000, 8, 6), true},
		{"8-bit RGBA png, 4000×4000", PNGHeader(4000, 4000, 8, 6), false},
		{"palette png, 6300×6300", PNGHeader(6300, 6300, 8, 3), false},
		{"4:2:0 jpeg, 40 megapixels", jpegDeclaring(t, 7300, 5470, 0x22), false},
		{"4:4:4 jpeg, 40 megapixels", jpegDeclaring(t, 7300, 5470, 0x11), true},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			_, err := defaultAvatarRules.render(tt.data)
			if refused := errors.Is(err, errAvatarMemory); refused != tt.refuse {
				t.Fatalf("refused for memory: %v, want %v (err %v)", refused, tt.refuse, err)
			}
		})
	}
}
