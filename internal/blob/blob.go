// Package blob stores opaque files (avatars today) by key, behind a small
// interface so that a deployment can swap the local directory for object
// storage without touching the code that writes them.
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// ErrNotFound is returned by Open for a key that holds nothing.
var ErrNotFound = errors.New("blob not found")

// ErrBadKey is returned for a key that is not a clean relative name.
var ErrBadKey = errors.New("invalid blob key")

// Store keeps blobs by key. Keys are slash-separated relative names made of
// letters, digits, '.', '_' and '-' (see ValidKey). Implementations must be
// safe for concurrent use.
type Store interface {
	// Put stores everything r yields under key, replacing any blob there.
	// Readers of key see either the old blob or the whole new one, never
	// a part. contentType is kept by stores that keep metadata.
	Put(ctx context.Context, key string, r io.Reader, contentType string) error
	// Open returns the blob under key; the caller closes it. Errors:
	// ErrNotFound, ErrBadKey.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes the blob under key. Deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

const maxKeyLen = 255

// ValidKey reports whether key is a clean relative name: one or more
// slash-separated segments of [A-Za-z0-9._-], none empty, none starting with
// a dot (so no "..", no hidden files, no temporary files of Dir).
func ValidKey(key string) bool {
	if key == "" || len(key) > maxKeyLen {
		return false
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// Dir is a Store in a local directory. Every operation goes through
// os.Root, so no key, symlink or race can reach outside the directory.
type Dir struct {
	root string
}

// NewDir returns a Store in dir, creating it (mode 0700) when missing.
func NewDir(dir string) (*Dir, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create blob dir: %w", err)
	}
	return &Dir{root: dir}, nil
}

// open checks key and opens the directory as a root that no path can leave;
// every access to a blob goes through it.
func (d *Dir) open(key string) (*os.Root, error) {
	if !ValidKey(key) {
		return nil, ErrBadKey
	}
	r, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, fmt.Errorf("open blob dir: %w", err)
	}
	return r, nil
}

// Put writes r to a temporary file beside key, syncs it and renames it over
// key, so the blob appears whole or not at all. Errors: ErrBadKey, or the
// reader's or file system's error.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, _ string) (err error) {
	root, err := d.open(key)
	if err != nil {
		return err
	}
	defer root.Close()
	if dir := path.Dir(key); dir != "." {
		if err := root.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create blob parent: %w", err)
		}
	}
	suffix := make([]byte, 8)
	_, _ = rand.Read(suffix)
	// A leading dot keeps temporary files out of the key space (ValidKey
	// refuses it), so Open never serves a half-written file.
	tmp := path.Join(path.Dir(key), "."+path.Base(key)+".tmp-"+hex.EncodeToString(suffix))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create blob: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = root.Remove(tmp)
		}
	}()
	if _, err := io.Copy(f, contextReader{ctx: ctx, r: r}); err != nil {
		return fmt.Errorf("write blob: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync blob: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close blob: %w", err)
	}
	if err := root.Rename(tmp, key); err != nil {
		return fmt.Errorf("rename blob: %w", err)
	}
	return nil
}

// Open returns the file under key. Errors: ErrNotFound, ErrBadKey.
func (d *Dir) Open(_ context.Context, key string) (io.ReadCloser, error) {
	root, err := d.open(key)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(key)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, ErrNotFound
	}
	return f, nil
}

// Delete removes the file under key; a missing file is not an error.
// Errors: ErrBadKey, or the file system's error.
func (d *Dir) Delete(_ context.Context, key string) error {
	root, err := d.open(key)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

// contextReader stops a copy when its context ends.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
