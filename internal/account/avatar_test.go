package account_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"image"
	"image/gif"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"callboard/internal/account"
	"callboard/internal/apitest"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

const avatarPath = "/api/dashboard/user/avatar/"

var avatarURL = regexp.MustCompile(`^/media/avatars/[0-9a-f]{32}\.(jpg|png)$`)

// formPart is one part of a multipart/form-data body.
type formPart struct {
	field, filename, contentType string
	data                         []byte
}

// multipartBody encodes parts; it returns the body and its Content-Type.
func multipartBody(t testing.TB, parts ...formPart) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disposition := `form-data; name="` + p.field + `"`
		if p.filename != "" {
			disposition += `; filename="` + p.filename + `"`
		}
		h.Set("Content-Disposition", disposition)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), w.FormDataContentType()
}

func upload(t testing.TB, s *apitest.Server, token string, parts ...formPart) *apitest.Response {
	t.Helper()
	body, contentType := multipartBody(t, parts...)
	return s.Do(t, apitest.Request{Method: "POST", Path: avatarPath, Token: token, Body: body,
		Header: map[string]string{"Content-Type": contentType}})
}

func avatarFile(name string, data []byte) formPart {
	return formPart{field: "avatar", filename: name, contentType: "application/octet-stream", data: data}
}

// profileAvatar returns the avatar_url of the session's profile ("" for none).
func profileAvatar(t *testing.T, s *apitest.Server, token string) string {
	t.Helper()
	u, _ := get(t, s, token, profilePath).JSON(t)["avatar_url"].(string)
	return u
}

// fetchAvatar GETs an avatar URL and checks the headers every avatar
// answer must carry; it returns the decoded image and its format.
func fetchAvatar(t *testing.T, s *apitest.Server, url string) (image.Image, string) {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "GET", Path: url})
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.Status, res.Body)
	}
	for header, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Cache-Control":           "private, max-age=31536000, immutable",
		"Content-Security-Policy": "default-src 'none'; sandbox",
	} {
		if got := res.Header.Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(res.Body)) {
		t.Errorf("Content-Length %q for %d bytes", got, len(res.Body))
	}
	m, format, err := image.Decode(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("avatar does not decode: %v", err)
	}
	if ct, want := res.Header.Get("Content-Type"), "image/"+format; ct != want {
		t.Fatalf("Content-Type %q for a %s file", ct, format)
	}
	if b := m.Bounds(); b.Dx() != account.AvatarSize || b.Dy() != account.AvatarSize {
		t.Fatalf("avatar is %dx%d", b.Dx(), b.Dy())
	}
	return m, format
}

var photo4000x3000 = sync.OnceValue(func() []byte { return account.LargePhoto(&testing.T{}, 4000, 3000) })

func TestAvatar(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := apitest.New(t, db)
		me, other := s.SignUp(t), s.SignUp(t)

		res := upload(t, s, other.Access, avatarFile("other.png", account.EncodePNG(t, account.Quadrants(50, 50))))
		if res.Status != http.StatusOK {
			t.Fatalf("other user's upload: %d %s", res.Status, res.Body)
		}
		otherURL := res.JSON(t)["avatar_url"].(string)

		t.Run("a 4000x3000 JPEG becomes 300x300", func(t *testing.T) {
			big := photo4000x3000()
			if len(big) > account.MaxAvatarBytes {
				t.Fatalf("test photo is %d bytes, over the limit", len(big))
			}
			res := upload(t, s, me.Access, avatarFile("holiday.jpeg", big))
			if res.Status != http.StatusOK {
				t.Fatalf("upload: %d %s", res.Status, res.Body)
			}
			url, _ := res.JSON(t)["avatar_url"].(string)
			if !avatarURL.MatchString(url) || !strings.HasSuffix(url, ".jpg") {
				t.Fatalf("avatar_url %q", url)
			}
			if got := profileAvatar(t, s, me.Access); got != url {
				t.Fatalf("profile shows %q, upload answered %q", got, url)
			}
			if _, format := fetchAvatar(t, s, url); format != "jpeg" {
				t.Fatalf("format %s", format)
			}
		})

		current := profileAvatar(t, s, me.Access)
		var gifFile bytes.Buffer
		if err := gif.Encode(&gifFile, account.Quadrants(64, 64), nil); err != nil {
			t.Fatal(err)
		}
		photo := account.EncodeJPEG(t, account.Quadrants(640, 480))
		sixMB := append(bytes.Clone(photo), make([]byte, 6<<20)...)
		refused := []struct {
			name     string
			parts    []formPart
			status   int
			location string
		}{
			{"gif", []formPart{avatarFile("cat.gif", gifFile.Bytes())}, 415, "body.avatar"},
			{"text file named .jpg", []formPart{{field: "avatar", filename: "photo.jpg", contentType: "image/jpeg", data: []byte("just some text, honest")}}, 415, "body.avatar"},
			{"html named .png", []formPart{{field: "avatar", filename: "x.png", contentType: "image/png", data: []byte("<svg onload=alert(1)>")}}, 415, "body.avatar"},
			{"truncated jpeg", []formPart{avatarFile("cut.jpg", photo[:len(photo)*2/3])}, 422, "body.avatar"},
			{"6 MB file", []formPart{avatarFile("huge.jpg", sixMB)}, 413, "body.avatar"},
			{"10000x10000 png bomb", []formPart{avatarFile("bomb.png", account.PNGBomb(10000, 10000))}, 422, "body.avatar"},
			{"empty file", []formPart{avatarFile("empty.jpg", nil)}, 422, "body.avatar"},
			{"no avatar field", nil, 422, "body.avatar"},
			{"another field", []formPart{{field: "picture", filename: "p.jpg", data: photo}}, 422, "body"},
			{"two files", []formPart{avatarFile("a.jpg", photo), avatarFile("b.jpg", photo)}, 422, "body.avatar"},
		}
		for _, tt := range refused {
			t.Run("refused: "+tt.name, func(t *testing.T) {
				res := upload(t, s, me.Access, tt.parts...)
				if res.Status != tt.status {
					t.Fatalf("status %d, want %d: %s", res.Status, tt.status, res.Body)
				}
				if locs := apitest.ErrorLocations(t, res); !slices.Contains(locs, tt.location) {
					t.Fatalf("errors %v do not name %s", locs, tt.location)
				}
				if got := profileAvatar(t, s, me.Access); got != current {
					t.Fatalf("avatar changed to %q by a refused upload", got)
				}
				fetchAvatar(t, s, current)
			})
		}
		t.Run("refused: not multipart", func(t *testing.T) {
			for _, contentType := range []string{"application/json", "image/jpeg", "multipart/form-data", ""} {
				res := s.Do(t, apitest.Request{Method: "POST", Path: avatarPath, Token: me.Access, Body: photo,
					Header: map[string]string{"Content-Type": contentType}})
				if res.Status != http.StatusUnsupportedMediaType {
					t.Fatalf("Content-Type %q: %d %s", contentType, res.Status, res.Body)
				}
			}
			if got := profileAvatar(t, s, me.Access); got != current {
				t.Fatalf("avatar changed to %q", got)
			}
		})

		t.Run("a PNG with transparency stays PNG and replaces the old file", func(t *testing.T) {
			res := upload(t, s, me.Access, avatarFile("logo.png", account.TransparentPNG(t, 800, 600)))
			if res.Status != http.StatusOK {
				t.Fatalf("upload: %d %s", res.Status, res.Body)
			}
			url := res.JSON(t)["avatar_url"].(string)
			if !avatarURL.MatchString(url) || !strings.HasSuffix(url, ".png") || url == current {
				t.Fatalf("avatar_url %q (was %q)", url, current)
			}
			m, format := fetchAvatar(t, s, url)
			if format != "png" {
				t.Fatalf("format %s", format)
			}
			if _, _, _, a := m.At(0, 0).RGBA(); a != 0 {
				t.Fatalf("corner alpha %d, want transparent", a)
			}
			if res := s.Do(t, apitest.Request{Method: "GET", Path: current}); res.Status != http.StatusNotFound {
				t.Fatalf("replaced avatar file still served: %d", res.Status)
			}
			current = url
		})

		t.Run("EXIF rotation is honoured", func(t *testing.T) {
			// Stored sideways (quarters r g / b w) with "rotate 90° clockwise to view".
			jpg := account.WithOrientation(account.EncodeJPEG(t, account.Quadrants(400, 400)), 6, true)
			res := upload(t, s, me.Access, avatarFile("sideways.jpg", jpg))
			if res.Status != http.StatusOK {
				t.Fatalf("upload: %d %s", res.Status, res.Body)
			}
			current = res.JSON(t)["avatar_url"].(string)
			m, _ := fetchAvatar(t, s, current)
			top := m.At(75, 75)
			if r, g, b, _ := top.RGBA(); !(b > 0xc000 && r < 0x4000 && g < 0x4000) {
				t.Fatalf("top left quarter is %v, want blue (the stored bottom left, turned clockwise)", top)
			}
		})

		t.Run("conditional GET", func(t *testing.T) {
			res := s.Do(t, apitest.Request{Method: "GET", Path: current})
			etag := res.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			res = s.Do(t, apitest.Request{Method: "GET", Path: current, Header: map[string]string{"If-None-Match": etag}})
			if res.Status != http.StatusNotModified || len(res.Body) != 0 {
				t.Fatalf("If-None-Match: %d, %d bytes", res.Status, len(res.Body))
			}
		})

		t.Run("unknown or malformed avatar names are 404", func(t *testing.T) {
			for _, path := range []string{
				"/media/avatars/" + strings.Repeat("0", 32) + ".jpg",
				"/media/avatars/" + strings.TrimPrefix(current, "/media/avatars/")[:32] + ".gif",
				"/media/avatars/not-a-key.jpg",
				"/media/avatars/..%2F..%2Fsigning.key",
				"/media/avatars/" + strings.ToUpper(strings.TrimPrefix(current, "/media/avatars/")),
			} {
				if res := s.Do(t, apitest.Request{Method: "GET", Path: path}); res.Status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", path, res.Status)
				}
			}
		})

		t.Run("unauthenticated", func(t *testing.T) {
			body, contentType := multipartBody(t, avatarFile("a.jpg", photo))
			for _, method := range []string{"POST", "DELETE"} {
				res := s.Do(t, apitest.Request{Method: method, Path: avatarPath, Body: body, Header: map[string]string{"Content-Type": contentType}})
				if res.Status != http.StatusUnauthorized {
					t.Fatalf("%s without a token: %d", method, res.Status)
				}
			}
			if got := profileAvatar(t, s, me.Access); got != current {
				t.Fatal("avatar changed without a token")
			}
		})

		t.Run("delete", func(t *testing.T) {
			for range 2 { // the second time there is nothing to delete
				res := s.Do(t, apitest.Request{Method: "DELETE", Path: avatarPath, Token: me.Access})
				if res.Status != http.StatusNoContent {
					t.Fatalf("delete: %d %s", res.Status, res.Body)
				}
				if got := profileAvatar(t, s, me.Access); got != "" {
					t.Fatalf("avatar_url %q after delete", got)
				}
			}
			if res := s.Do(t, apitest.Request{Method: "GET", Path: current}); res.Status != http.StatusNotFound {
				t.Fatalf("deleted avatar file still served: %d", res.Status)
			}
		})

		t.Run("another user's avatar is untouched", func(t *testing.T) {
			if got := profileAvatar(t, s, other.Access); got != otherURL {
				t.Fatalf("other user's avatar_url %q, was %q", got, otherURL)
			}
			fetchAvatar(t, s, otherURL)
		})
	})
}

// countingReader counts what the server read of a request body.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestAvatarTooLargeIsRefusedEarly checks that an oversized upload is
// refused without reading it all: at once when Content-Length says so,
// and just past the limit when the size is not announced.
func TestAvatarTooLargeIsRefusedEarly(t *testing.T) {
	s := apitest.New(t, storetest.SQLite(t))
	me := s.SignUp(t)
	huge := make([]byte, 12<<20)
	copy(huge, "\xFF\xD8\xFF\xE0")
	_, _ = rand.Read(huge[4:])
	body, contentType := multipartBody(t, avatarFile("huge.jpg", huge))

	for _, announced := range []bool{true, false} {
		counter := &countingReader{r: bytes.NewReader(body)}
		r := httptest.NewRequestWithContext(context.Background(), "POST", avatarPath, counter)
		r.Header.Set("Content-Type", contentType)
		r.Header.Set("Authorization", "Bearer "+me.Access)
		r.ContentLength = -1
		if announced {
			r.ContentLength = int64(len(body))
			r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		}
		w := httptest.NewRecorder()
		s.Handler.ServeHTTP(w, r)
		if w.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("announced %v: status %d %s", announced, w.Code, w.Body)
		}
		limit := int64(account.MaxAvatarBytes + 64<<10)
		if announced && counter.n != 0 {
			t.Fatalf("read %d bytes of a body announced as too large", counter.n)
		}
		if !announced && counter.n > limit {
			t.Fatalf("read %d bytes of a %d-byte body; should stop near %d", counter.n, len(body), account.MaxAvatarBytes)
		}
	}
	if got := profileAvatar(t, s, me.Access); got != "" {
		t.Fatalf("avatar %q after refused uploads", got)
	}
}
