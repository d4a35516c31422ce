package blob

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{
		"a.jpg":                  true,
		"avatars/0f3a.png":       true,
		"a-b_c.D9":               true,
		"":                       false,
		"..":                     false,
		"../x":                   false,
		"a/../b":                 false,
		"/abs":                   false,
		"a//b":                   false,
		"a/":                     false,
		".hidden":                false,
		"a/.tmp":                 false,
		`a\b`:                    false,
		"a b":                    false,
		"a%2e":                   false,
		"ü.jpg":                  false,
		strings.Repeat("a", 256): false,
	} {
		if got := ValidKey(key); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func TestDirRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := NewDir(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "avatars/x.png", strings.NewReader("first"), "image/png"); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "avatars/x.png", strings.NewReader("second"), "image/png"); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(ctx, "avatars/x.png")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "second" {
		t.Fatalf("got %q, want the replacement", b)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "media", "avatars"))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := d.Delete(ctx, "avatars/x.png"); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "avatars/x.png"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if _, err := d.Open(ctx, "avatars/x.png"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open deleted: %v, want ErrNotFound", err)
	}
	if _, err := d.Open(ctx, "avatars"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open a directory: %v, want ErrNotFound", err)
	}
}

func TestDirRefusesEscapes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := NewDir(filepath.Join(dir, "media"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte("s"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"../secret", "/etc/passwd", ".tmp"} {
		if err := d.Put(ctx, key, strings.NewReader("x"), ""); !errors.Is(err, ErrBadKey) {
			t.Errorf("Put(%q) = %v, want ErrBadKey", key, err)
		}
		if _, err := d.Open(ctx, key); !errors.Is(err, ErrBadKey) {
			t.Errorf("Open(%q) = %v, want ErrBadKey", key, err)
		}
		if err := d.Delete(ctx, key); !errors.Is(err, ErrBadKey) {
			t.Errorf("Delete(%q) = %v, want ErrBadKey", key, err)
		}
	}
	// A symlink planted inside the directory cannot lead out of it.
	if err := os.Symlink(filepath.Join(dir, "secret"), filepath.Join(dir, "media", "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Open(ctx, "link"); err == nil {
		t.Fatal("opened a file outside the directory through a symlink")
	}
}

func TestDirPutFailureLeavesOldBlob(t *testing.T) {
	ctx := context.Background()
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "k", strings.NewReader("old"), ""); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := d.Put(ctx, "k", io.MultiReader(strings.NewReader("partial"), errReader{boom}), ""); !errors.Is(err, boom) {
		t.Fatalf("Put = %v, want the reader's error", err)
	}
	rc, err := d.Open(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "old" {
		t.Fatalf("got %q after a failed Put, want the old blob", b)
	}
	entries, _ := os.ReadDir(d.root)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
