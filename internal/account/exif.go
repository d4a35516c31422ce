package account

import (
	"encoding/binary"
	"image"
)

// jpegOrientation returns the EXIF orientation (1–8) of a JPEG file, or 1
// (as stored) when the file has none or it cannot be read. Only the
// segments before the first scan are looked at, and every offset is checked
// against the data, so hostile input costs at most one pass over it.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xFF {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			i++
			continue
		case marker == 0x01 || marker >= 0xD0 && marker <= 0xD8: // markers without a length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image: no more metadata
			return 1
		}
		length := int(binary.BigEndian.Uint16(b[i+2:]))
		if length < 2 || i+2+length > len(b) {
			return 1
		}
		segment := b[i+4 : i+2+length]
		if marker == 0xE1 && len(segment) >= 6 && string(segment[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(segment[6:]); o != 0 {
				return o
			}
		}
		i += 2 + length
	}
	return 1
}

// tiffOrientation reads tag 0x0112 (Orientation) from the first IFD of a
// TIFF structure (the body of an EXIF segment); 0 when absent or malformed.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 0
	}
	if order.Uint16(t[2:]) != 42 {
		return 0
	}
	ifd := uint64(order.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > uint64(len(t)) {
		return 0
	}
	entries := int(order.Uint16(t[ifd:]))
	for k := range entries {
		e := int(ifd) + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if order.Uint16(t[e:]) != 0x0112 {
			continue
		}
		const typeShort = 3
		if order.Uint16(t[e+2:]) != typeShort || order.Uint32(t[e+4:]) != 1 {
			return 0
		}
		if v := int(order.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}

// orient returns the square image m turned as EXIF orientation o says, so
// that it displays upright; m itself when o is 1 (or unknown).
func orient(m *image.RGBA, o int) *image.RGBA {
	if o < 2 || o > 8 {
		return m
	}
	n := m.Bounds().Dx()
	out := image.NewRGBA(image.Rect(0, 0, n, n))
	last := n - 1
	for y := range n {
		for x := range n {
			var sx, sy int
			switch o {
			case 2: // mirrored horizontally
				sx, sy = last-x, y
			case 3: // rotated 180°
				sx, sy = last-x, last-y
			case 4: // mirrored vertically
				sx, sy = x, last-y
			case 5: // mirrored along the main diagonal
				sx, sy = y, x
			case 6: // needs 90° clockwise
				sx, sy = y, last-x
			case 7: // mirrored along the anti-diagonal
				sx, sy = last-y, last-x
			case 8: // needs 90° anticlockwise
				sx, sy = last-y, x
			}
			si := m.PixOffset(m.Rect.Min.X+sx, m.Rect.Min.Y+sy)
			di := out.PixOffset(x, y)
			copy(out.Pix[di:di+4], m.Pix[si:si+4])
		}
	}
	return out
}
