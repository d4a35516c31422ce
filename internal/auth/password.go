package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"
	"golang.org/x/sync/semaphore"

	"callboard/internal/apperr"
)

// Argon2Params are argon2id's cost parameters. Hashes carry their own
// parameters (PHC string form), so raising these upgrades old hashes at the
// next successful login.
type Argon2Params struct {
	MemoryKiB   uint32
	Iterations  uint32
	Parallelism uint8
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id
// (m=19 MiB, t=2, p=1).
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	argonSaltLen = 16
	argonKeyLen  = 32

	// MinPasswordLen and MaxPasswordLen bound a password in characters.
	MinPasswordLen = 8
	MaxPasswordLen = 128
	// MinPasswordScore is the lowest zxcvbn score (0–4) accepted.
	MinPasswordScore = 3
)

// HashPassword returns the PHC string of password under p:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Iterations, p.Parallelism,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC hash, and whether
// the hash was made with weaker parameters than want (so it should be
// replaced). A malformed hash never matches.
func VerifyPassword(password, hash string, want Argon2Params) (ok, rehash bool) {
	p, salt, key, err := parsePHC(hash)
	if err != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false
	}
	weaker := p.MemoryKiB < want.MemoryKiB || p.Iterations < want.Iterations || p.Parallelism < want.Parallelism
	return true, weaker
}

func parsePHC(hash string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Iterations, &p.Parallelism); err != nil {
		return p, nil, nil, fmt.Errorf("argon2 params: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("argon2 salt: %w", err)
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) == 0 {
		return p, nil, nil, fmt.Errorf("argon2 key: %w", err)
	}
	return p, salt, key, nil
}

// CheckPasswordPolicy explains why password is refused for this user, or
// returns nil. location names the field in errors ("body.password").
// Rules: 8–128 characters, a zxcvbn score of at least 3, and not built from
// the user's email local part or names.
func CheckPasswordPolicy(location, password, email, firstName, lastName string) *apperr.Error {
	var problems []apperr.FieldError
	add := func(msg string) { problems = append(problems, apperr.FieldError{Location: location, Message: msg}) }

	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		add(fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case n > MaxPasswordLen:
		add(fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	}
	lower := strings.ToLower(password)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	personal := []struct{ what, value string }{
		{"your email address", local}, {"your first name", strings.ToLower(firstName)}, {"your last name", strings.ToLower(lastName)},
	}
	var userInputs []string
	for _, p := range personal {
		// Very short names ("Al") would forbid too much; zxcvbn still weighs them.
		if utf8.RuneCountInString(p.value) >= 3 && strings.Contains(lower, p.value) {
			add("must not contain " + p.what)
		}
		if p.value != "" {
			userInputs = append(userInputs, p.value)
		}
	}
	if n >= MinPasswordLen && n <= MaxPasswordLen {
		if score := zxcvbn.PasswordStrength(password, userInputs).Score; score < MinPasswordScore {
			add("is too easy to guess: add more words or characters, avoid common words and patterns")
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return apperr.InvalidFields(problems...)
}

// hashGate bounds the memory argon2id may hold at once: each hash or check
// holds its memory cost (19 MiB by default) for tens of milliseconds, and
// nothing else bounds how many requests do so together. It is a weighted
// semaphore over KiB with room for a configured number of hashes at the
// configured cost; a check of an older hash weighs what that hash costs. A
// request waits briefly for room, then is refused (503 with Retry-After)
// rather than queueing without limit.
type hashGate struct {
	sem      *semaphore.Weighted
	capacity int64
	wait     time.Duration
}

func newHashGate(slots int, p Argon2Params, wait time.Duration) *hashGate {
	capacity := int64(slots) * int64(max(p.MemoryKiB, 1))
	return &hashGate{sem: semaphore.NewWeighted(capacity), capacity: capacity, wait: wait}
}

// errHashBusy is the answer when no hashing room frees up in time.
var errHashBusy = apperr.Unavailable("the server is busy checking passwords; try again in a moment", time.Second)

// run runs fn once room for memKiB of hashing is free. Errors: Unavailable
// when none frees up within the gate's wait; ctx's error when the request
// ends first.
func (g *hashGate) run(ctx context.Context, memKiB uint32, fn func()) error {
	weight := min(max(int64(memKiB), 1), g.capacity)
	waitCtx, cancel := context.WithTimeout(ctx, g.wait)
	defer cancel()
	if err := g.sem.Acquire(waitCtx, weight); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return errHashBusy
	}
	defer g.sem.Release(weight)
	fn()
	return nil
}

// hashPassword is HashPassword within the gate.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	var hash string
	var err error
	if gerr := s.hashes.run(ctx, s.cfg.Argon2.MemoryKiB, func() { hash, err = HashPassword(password, s.cfg.Argon2) }); gerr != nil {
		return "", gerr
	}
	return hash, err
}

// verifyPassword is VerifyPassword within the gate, weighed by the stored
// hash's own memory cost.
func (s *Service) verifyPassword(ctx context.Context, password, hash string) (ok, rehash bool, err error) {
	mem := s.cfg.Argon2.MemoryKiB
	if p, _, _, perr := parsePHC(hash); perr == nil {
		mem = p.MemoryKiB
	}
	err = s.hashes.run(ctx, mem, func() { ok, rehash = VerifyPassword(password, hash, s.cfg.Argon2) })
	return ok, rehash, err
}
