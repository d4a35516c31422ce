package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	tokenIssuer   = "callboard"
	tokenAudience = "callboard-dashboard"
	// accessTokenType is the JWT "typ" header of access tokens (RFC 9068), so
	// no other JWT signed with the same key passes as one.
	accessTokenType = "at+jwt"
	// refreshTokenBytes is 256 bits of randomness (ASVS asks for at least 128).
	refreshTokenBytes = 32
)

// MinSigningKeyLen is the shortest HMAC key accepted (256 bits).
const MinSigningKeyLen = 32

// accessClaims are the claims of an access token: the user (sub) and the
// session (sid) it belongs to, so revoking the session revokes the token.
type accessClaims struct {
	SessionID int64 `json:"sid"`
	jwt.RegisteredClaims
}

// tokenSigner issues and verifies access tokens with HS256 only.
type tokenSigner struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

func (s *tokenSigner) issue(userID, sessionID int64) (string, error) {
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	return s.issueAt(userID, sessionID, s.now(), jti)
}

// issueAt issues the access token of a session as of now with token id
// jti: the same arguments make the same token.
func (s *tokenSigner) issueAt(userID, sessionID int64, now time.Time, jti []byte) (string, error) {
	claims := accessClaims{
		SessionID: sessionID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    tokenIssuer,
			Subject:   strconv.FormatInt(userID, 10),
			Audience:  jwt.ClaimStrings{tokenAudience},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.ttl)),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
	}
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	token.Header["typ"] = accessTokenType
	signed, err := token.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return signed, nil
}

var errBadToken = errors.New("invalid access token")

// verify checks signature (HS256 only: "none" and every other algorithm are
// refused), type, issuer, audience and expiry, and returns the user and
// session ids. Whether the session is still live is the caller's check.
func (s *tokenSigner) verify(raw string) (userID, sessionID int64, err error) {
	var claims accessClaims
	token, err := jwt.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != accessTokenType {
			return nil, errBadToken
		}
		return s.key, nil
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(tokenIssuer),
		jwt.WithAudience(tokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
	)
	if err != nil || !token.Valid {
		return 0, 0, errBadToken
	}
	userID, err = strconv.ParseInt(claims.Subject, 10, 64)
	if err != nil || userID <= 0 || claims.SessionID <= 0 {
		return 0, 0, errBadToken
	}
	return userID, claims.SessionID, nil
}

// newRefreshToken returns an opaque refresh token and the hash stored for it.
func newRefreshToken() (token string, hash []byte, err error) {
	b := make([]byte, refreshTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("refresh token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

// successor is the refresh token that replaces token when it is rotated:
// an HMAC of it under the signing key, so a refresh repeated within the
// grace window can hand out the same token again although only hashes are
// stored, and nobody without the key can tell a successor from random.
func (s *Service) successor(token string) string {
	mac := hmac.New(sha256.New, s.cfg.SigningKey)
	mac.Write([]byte("callboard refresh successor\x00"))
	mac.Write([]byte(token))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// jtiOf is the access token id that goes with refresh token token: derived
// like successor (under another label), 128 bits.
func jtiOf(key []byte, token string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("callboard access token id\x00"))
	mac.Write([]byte(token))
	return mac.Sum(nil)[:16]
}

// hashRefreshToken is SHA-256: refresh tokens are long random strings, so a
// fast hash is enough (no dictionary to guess from) and lookups stay indexed.
func hashRefreshToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
