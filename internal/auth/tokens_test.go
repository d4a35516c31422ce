package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAccessTokenVerify(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	key := []byte("0123456789abcdef0123456789abcdef")
	signer := &tokenSigner{key: key, ttl: 15 * time.Minute, now: func() time.Time { return now }}
	good, err := signer.issue(42, 7)
	if err != nil {
		t.Fatal(err)
	}
	forge := func(method jwt.SigningMethod, signKey any, mutate func(*accessClaims, *jwt.Token)) string {
		c := accessClaims{SessionID: 7, RegisteredClaims: jwt.RegisteredClaims{
			Issuer: tokenIssuer, Subject: "42", Audience: jwt.ClaimStrings{tokenAudience},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute)),
		}}
		tok := jwt.NewWithClaims(method, &c)
		tok.Header["typ"] = accessTokenType
		if mutate != nil {
			mutate(&c, tok)
		}
		s, err := tok.SignedString(signKey)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name  string
		token string
		clock time.Time
		ok    bool
	}{
		{"valid", good, now, true},
		{"expired", good, now.Add(16 * time.Minute), false},
		{"alg none", forge(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil), now, false},
		{"alg HS512 with the same key", forge(jwt.SigningMethodHS512, key, nil), now, false},
		{"wrong key", forge(jwt.SigningMethodHS256, []byte("another-key-another-key-another-k"), nil), now, false},
		{"wrong audience", forge(jwt.SigningMethodHS256, key, func(c *accessClaims, _ *jwt.Token) { c.Audience = jwt.ClaimStrings{"other"} }), now, false},
		{"wrong issuer", forge(jwt.SigningMethodHS256, key, func(c *accessClaims, _ *jwt.Token) { c.Issuer = "evil" }), now, false},
		{"no expiry", forge(jwt.SigningMethodHS256, key, func(c *accessClaims, _ *jwt.Token) { c.ExpiresAt = nil }), now, false},
		{"wrong typ header", forge(jwt.SigningMethodHS256, key, func(_ *accessClaims, tok *jwt.Token) { tok.Header["typ"] = "JWT" }), now, false},
		{"no session", forge(jwt.SigningMethodHS256, key, func(c *accessClaims, _ *jwt.Token) { c.SessionID = 0 }), now, false},
		{"garbage", "not.a.token", now, false},
		{"tampered payload", good[:len(good)-3] + "abc", now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := *signer
			s.now = func() time.Time { return tt.clock }
			uid, sid, err := s.verify(tt.token)
			if tt.ok != (err == nil) {
				t.Fatalf("verify err = %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && (uid != 42 || sid != 7) {
				t.Fatalf("got user %d session %d", uid, sid)
			}
		})
	}
}

func TestRefreshTokensAreRandomAndHashed(t *testing.T) {
	a, ha, _ := newRefreshToken()
	b, _, _ := newRefreshToken()
	if a == b || len(a) < 43 {
		t.Fatalf("refresh tokens %q, %q: want distinct, 256-bit", a, b)
	}
	if string(ha) == a || len(ha) != 32 {
		t.Fatal("stored form must be a SHA-256 hash")
	}
}
