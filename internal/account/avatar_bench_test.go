package account

import "testing"

// BenchmarkRenderAvatar measures the whole upload pipeline (decode, crop,
// resize, encode) for a typical phone photo and for one at the pixel limit.
func BenchmarkRenderAvatar(b *testing.B) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"4000x3000", 4000, 3000}, {"7300x5470_40MP", 7300, 5470}} {
		data := LargePhoto(b, size.w, size.h)
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
