package account

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"golang.org/x/image/draw"

	"callboard/internal/apperr"
	"callboard/internal/blob"
	"callboard/internal/store"
)

// Avatar limits.
const (
	MaxAvatarBytes  = 5 << 20    // an upload larger than this is refused while it is read
	MaxAvatarPixels = 40_000_000 // images with more pixels are refused before decoding
	// MaxAvatarDecodeBytes bounds the memory a decoded upload takes, judged
	// from its header before decoding: pixels times bytes per pixel, which
	// depend on the format (a 16-bit RGBA PNG takes 8 bytes a pixel, an
	// 8-bit one 4, a grey one 1; a JPEG 1–4 by its colour subsampling). A
	// 40-megapixel phone JPEG (4:2:0, 60 MB) fits; so does a 20-megapixel
	// RGBA PNG, but a 16-bit one only up to 10 megapixels.
	MaxAvatarDecodeBytes = 80 << 20
	AvatarSize           = 300        // avatars are AvatarSize×AvatarSize
	avatarQuality        = 85         // JPEG quality of stored avatars
	avatarBlobDir        = "avatars/" // blob key prefix; the served URL is AvatarPath + users.avatar_key
	// avatarQueueWait is how long an upload waits for a decode slot before
	// it is answered 503.
	avatarQueueWait = 10 * time.Second
)

// avatarRules are the limits one decode works within (tests and the fuzz
// target shrink them).
type avatarRules struct {
	maxBytes       int64
	maxPixels      int64
	maxDecodeBytes int64
	size           int
}

var defaultAvatarRules = avatarRules{maxBytes: MaxAvatarBytes, maxPixels: MaxAvatarPixels, maxDecodeBytes: MaxAvatarDecodeBytes, size: AvatarSize}

var (
	errAvatarType = &apperr.Error{Kind: apperr.KindUnsupported, Message: "avatar must be a JPEG or PNG image",
		Fields: []apperr.FieldError{{Location: "body.avatar", Message: "must be a JPEG or PNG image (judged by its content)"}}}
	errAvatarTooLarge = &apperr.Error{Kind: apperr.KindTooLarge, Message: "avatar is too large",
		Fields: []apperr.FieldError{{Location: "body.avatar", Message: "must be at most 5 MB"}}}
	errAvatarDamaged = apperr.Invalid("body.avatar", "could not be read as an image: the file is damaged or truncated")
	errAvatarPixels  = apperr.Invalid("body.avatar", "has too many pixels: at most 40 megapixels")
	errAvatarMemory  = apperr.Invalid("body.avatar", "is too large to decode: at most 80 MB once decoded "+
		"(about 20 megapixels for a PNG, 10 for a 16-bit PNG, 40 for a typical photo); scale it down first")
	errAvatarMissing = apperr.Invalid("body.avatar", "is required: send the image as a multipart/form-data file field named avatar")
	errAvatarBusy    = apperr.Unavailable("the server is busy with other images; try again in a moment", 2*time.Second)
	errAvatarForm    = &apperr.Error{Kind: apperr.KindUnsupported, Message: "send the avatar as multipart/form-data with a file field named avatar"}
)

// renderedAvatar is an avatar ready to store.
type renderedAvatar struct {
	data        []byte
	contentType string
	ext         string
}

// render turns an uploaded file into an avatar: JPEG or PNG judged by its
// first bytes; dimensions read before decoding so that decompression bombs
// are refused cheaply; EXIF orientation applied; centre-cropped to a square
// and resized with Catmull-Rom; re-encoded, which drops all metadata. PNGs
// that keep transparency stay PNG; everything else becomes JPEG.
// Errors: client-safe *apperr.Error values for every bad input.
func (r avatarRules) render(data []byte) (renderedAvatar, error) {
	if int64(len(data)) > r.maxBytes {
		return renderedAvatar{}, errAvatarTooLarge
	}
	var (
		decodeConfig func(io.Reader) (image.Config, error)
		decode       func(io.Reader) (image.Image, error)
		decodedBytes func(image.Config) int64
		orientation  = 1
	)
	switch {
	case bytes.HasPrefix(data, []byte("\xFF\xD8\xFF")):
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
		decodedBytes = func(cfg image.Config) int64 { return jpegDecodedBytes(data, cfg) }
		orientation = jpegOrientation(data)
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		decodeConfig, decode, decodedBytes = png.DecodeConfig, png.Decode, pngDecodedBytes
	default:
		return renderedAvatar{}, errAvatarType
	}
	cfg, err := decodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return renderedAvatar{}, errAvatarDamaged
	}
	if int64(cfg.Width)*int64(cfg.Height) > r.maxPixels {
		return renderedAvatar{}, errAvatarPixels
	}
	if decodedBytes(cfg) > r.maxDecodeBytes {
		return renderedAvatar{}, errAvatarMemory
	}
	src, err := decode(bytes.NewReader(data))
	if err != nil {
		return renderedAvatar{}, errAvatarDamaged
	}
	b := src.Bounds()
	if b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return renderedAvatar{}, errAvatarDamaged
	}
	// The centre square of the upright image is the centre square of the
	// stored one, so crop and resize first and turn only the small result.
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, r.size, r.size))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Src, nil)
	dst = orient(dst, orientation)

	var out bytes.Buffer
	if dst.Opaque() {
		if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: avatarQuality}); err != nil {
			return renderedAvatar{}, fmt.Errorf("encode avatar: %w", err)
		}
		return renderedAvatar{data: out.Bytes(), contentType: "image/jpeg", ext: ".jpg"}, nil
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&out, dst); err != nil {
		return renderedAvatar{}, fmt.Errorf("encode avatar: %w", err)
	}
	return renderedAvatar{data: out.Bytes(), contentType: "image/png", ext: ".png"}, nil
}

// pngDecodedBytes is the size of the image png.Decode makes for cfg: its
// colour model says the pixel type (16-bit models take twice the bytes).
func pngDecodedBytes(cfg image.Config) int64 {
	perPixel := int64(4) // RGBA, NRGBA (also grey with alpha)
	switch cfg.ColorModel {
	case color.GrayModel:
		perPixel = 1
	case color.Gray16Model:
		perPixel = 2
	case color.RGBA64Model, color.NRGBA64Model:
		perPixel = 8
	default:
		if _, ok := cfg.ColorModel.(color.Palette); ok {
			perPixel = 1
		}
	}
	return int64(cfg.Width) * int64(cfg.Height) * perPixel
}

// jpegDecodedBytes is the size of the image jpeg.Decode makes for data: a
// plane per component, chroma planes shrunk by their sampling factors as
// the frame header (SOF) gives them; a four-component (CMYK) image is
// converted to 4 bytes a pixel on top of its planes. When the header
// cannot be read, the worst case (4:4:4, 3 bytes a pixel) is assumed.
func jpegDecodedBytes(data []byte, cfg image.Config) int64 {
	w, h := int64(cfg.Width), int64(cfg.Height)
	comps := jpegSampling(data)
	if len(comps) == 0 {
		return w * h * 3
	}
	var hmax, vmax int64 = 1, 1
	for _, c := range comps {
		hmax, vmax = max(hmax, int64(c[0])), max(vmax, int64(c[1]))
	}
	var total int64
	for _, c := range comps {
		total += (w*int64(c[0]) + hmax - 1) / hmax * ((h*int64(c[1]) + vmax - 1) / vmax)
	}
	if len(comps) == 4 {
		total += w * h * 4
	}
	return total
}

// jpegSampling returns the horizontal and vertical sampling factors of each
// component in the first frame header (SOF0–SOF15 but DHT, JPG and DAC),
// or nil when there is none before the scan.
func jpegSampling(data []byte) [][2]byte {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return nil
		}
		marker := data[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || marker == 0x01 || marker >= 0xD0 && marker <= 0xD7 {
			i += 2
			continue
		}
		length := int(data[i+2])<<8 | int(data[i+3])
		if length < 2 || i+2+length > len(data) {
			return nil
		}
		seg := data[i+4 : i+2+length]
		switch {
		case marker == 0xDA: // start of scan: no frame header came first
			return nil
		case marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC:
			if len(seg) < 6 {
				return nil
			}
			n := int(seg[5])
			if n < 1 || n > 4 || len(seg) < 6+3*n {
				return nil
			}
			comps := make([][2]byte, n)
			for c := range n {
				hv := seg[6+3*c+1]
				comps[c] = [2]byte{max(hv>>4, 1), max(hv&0x0F, 1)}
			}
			return comps
		}
		i += 2 + length
	}
	return nil
}

// readAvatarUpload reads the one file field "avatar" of a multipart/form-data
// body, refusing it as soon as it grows past maxBytes (the rest of the body
// is never read). Errors: Unsupported when the body is not multipart;
// TooLarge; Invalid for a missing, repeated or unknown field.
func readAvatarUpload(contentType string, body io.Reader, maxBytes int64) ([]byte, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		return nil, errAvatarForm
	}
	form := multipart.NewReader(body, params["boundary"])
	var data []byte
	for {
		part, err := form.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, bodyReadError(err)
		}
		// Refusals return without Part.Close, which would read the rest of
		// the part: the unread body is left to the server to discard.
		name := part.FormName()
		switch {
		case name != "avatar":
			return nil, apperr.Invalid("body", fmt.Sprintf("unexpected form field %q: send only avatar", truncateValue(name)))
		case data != nil:
			return nil, apperr.Invalid("body.avatar", "send one file only")
		}
		data, err = io.ReadAll(io.LimitReader(part, maxBytes+1))
		if err != nil {
			return nil, bodyReadError(err)
		}
		if int64(len(data)) > maxBytes {
			return nil, errAvatarTooLarge
		}
	}
	switch {
	case data == nil:
		return nil, errAvatarMissing
	case len(data) == 0:
		return nil, apperr.Invalid("body.avatar", "is an empty file")
	}
	return data, nil
}

// bodyReadError maps a failure to read the request body to a client error:
// past the server's body limit is TooLarge, anything else a malformed body.
func bodyReadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errAvatarTooLarge
	}
	return apperr.Invalid("body", "malformed multipart/form-data body")
}

// SetAvatar makes an uploaded image the user's avatar (see render for what
// is accepted) and returns the profile. The new file is stored under a new
// unguessable name before the account points to it; the old file is deleted
// once nothing points to it. A refused upload leaves the old avatar in place.
// Errors: Unsupported, TooLarge and Invalid for bad images; NotFound when
// the user is gone.
func (s *Service) SetAvatar(ctx context.Context, userID int64, upload []byte) (User, error) {
	wait := time.NewTimer(avatarQueueWait)
	defer wait.Stop()
	select {
	case s.decodeSlots <- struct{}{}:
	case <-wait.C:
		return User{}, errAvatarBusy
	case <-ctx.Done():
		return User{}, ctx.Err()
	}
	avatar, err := s.avatarRules.render(upload)
	<-s.decodeSlots
	if err != nil {
		return User{}, err
	}
	key, err := newAvatarKey(avatar.ext)
	if err != nil {
		return User{}, err
	}
	if err := s.blobs.Put(ctx, avatarBlobDir+key, bytes.NewReader(avatar.data), avatar.contentType); err != nil {
		return User{}, fmt.Errorf("store avatar: %w", err)
	}
	if err := s.replaceAvatarKey(ctx, userID, &key); err != nil {
		// Nothing points to the new file: take it away again.
		s.deleteAvatarBlob(context.WithoutCancel(ctx), key)
		return User{}, err
	}
	return s.Profile(ctx, userID)
}

// DeleteAvatar removes the user's avatar, if any, and its file.
// Errors: NotFound when the user is gone.
func (s *Service) DeleteAvatar(ctx context.Context, userID int64) error {
	return s.replaceAvatarKey(ctx, userID, nil)
}

// replaceAvatarKey points the account at key (nil: no avatar) and, after
// the commit, deletes the file of the avatar it replaced.
func (s *Service) replaceAvatarKey(ctx context.Context, userID int64, key *string) error {
	var old sql.NullString
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT avatar_key FROM users WHERE id = $1 AND deleted_at IS NULL`+s.forUpdate(), userID).Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return errUserGone
		}
		if err != nil {
			return fmt.Errorf("load avatar key: %w", err)
		}
		if !old.Valid && key == nil {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET avatar_key = $1, updated_at = $2 WHERE id = $3`, key, store.Millis(s.now()), userID)
		if err != nil {
			return fmt.Errorf("update avatar key: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if old.Valid && (key == nil || *key != old.String) {
		s.deleteAvatarBlob(context.WithoutCancel(ctx), old.String)
	}
	return nil
}

// deleteAvatarBlob deletes an avatar file nothing points to. A failure only
// leaves an orphan file behind (under a name nobody knows), so it is logged,
// not returned.
func (s *Service) deleteAvatarBlob(ctx context.Context, key string) {
	if err := s.blobs.Delete(ctx, avatarBlobDir+key); err != nil {
		s.logger.Warn("delete avatar file", "key", key, "err", err)
	}
}

// newAvatarKey is 128 random bits in hex plus the file extension.
func newAvatarKey(ext string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("avatar key: %w", err)
	}
	return hex.EncodeToString(b) + ext, nil
}

// avatarContentType returns the content type of a well-formed avatar key,
// and false for anything else (which is answered 404 without touching the
// blob store).
func avatarContentType(key string) (string, bool) {
	name, ext, ok := strings.Cut(key, ".")
	if !ok || len(name) != 32 || strings.Trim(name, "0123456789abcdef") != "" {
		return "", false
	}
	switch ext {
	case "jpg":
		return "image/jpeg", true
	case "png":
		return "image/png", true
	}
	return "", false
}

// OpenAvatar returns the avatar file under key and its content type; the
// caller closes it. Errors: NotFound.
func (s *Service) OpenAvatar(ctx context.Context, key string) (io.ReadCloser, string, error) {
	contentType, ok := avatarContentType(key)
	if !ok {
		return nil, "", apperr.NotFound("avatar")
	}
	f, err := s.blobs.Open(ctx, avatarBlobDir+key)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, "", apperr.NotFound("avatar")
	}
	if err != nil {
		return nil, "", fmt.Errorf("open avatar: %w", err)
	}
	return f, contentType, nil
}
