package auth

import (
	"strings"
	"testing"
)

func TestHashPasswordPHCAndVerify(t *testing.T) {
	hash, err := HashPassword("violet-lantern-87-orbit", DefaultArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q is not argon2id in PHC form with OWASP parameters", hash)
	}
	tests := []struct {
		name       string
		password   string
		hash       string
		want       Argon2Params
		ok, rehash bool
	}{
		{"right password", "violet-lantern-87-orbit", hash, DefaultArgon2, true, false},
		{"wrong password", "violet-lantern-87-orbiT", hash, DefaultArgon2, false, false},
		{"stronger params wanted", "violet-lantern-87-orbit", hash, Argon2Params{MemoryKiB: 64 * 1024, Iterations: 3, Parallelism: 1}, true, true},
		{"malformed hash", "x", "$argon2id$v=19$m=1,t=1$bad", DefaultArgon2, false, false},
		{"other algorithm", "x", "$2a$10$abcdefghijklmnopqrstuu", DefaultArgon2, false, false},
		{"empty hash", "x", "", DefaultArgon2, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash := VerifyPassword(tt.password, tt.hash, tt.want)
			if ok != tt.ok || rehash != tt.rehash {
				t.Fatalf("VerifyPassword = %v, %v; want %v, %v", ok, rehash, tt.ok, tt.rehash)
			}
		})
	}
}

func TestHashPasswordSalted(t *testing.T) {
	a, _ := HashPassword("same password here", Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	b, _ := HashPassword("same password here", Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1})
	if a == b {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	tests := []struct {
		name     string
		password string
		want     string // fragment of the refusal; "" = accepted
	}{
		{"strong passphrase", "violet-lantern-87-orbit", ""},
		{"too short", "aB3$x", "at least 8"},
		{"too long", strings.Repeat("Zq9!", 33), "at most 128"},
		{"common", "password123", "too easy"},
		{"keyboard walk", "qwertyuiop", "too easy"},
		{"contains email local part", "ayesha.malik-Zq9!x7", "email"},
		{"contains first name", "xx-Ayesha-77-lantern", "first name"},
		{"contains last name", "Malikorbit!!2024zz", "last name"},
		{"length counts characters, not bytes", "پاسورڈز", "at least 8"},
		{"128 characters accepted", strings.Repeat("k", 100) + "violet-lantern-87-orbit-xyz!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPasswordPolicy("body.password", tt.password, "ayesha.malik@example.com", "Ayesha", "Malik")
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %+v", err.Fields)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want refusal mentioning %q", tt.want)
			}
			var msgs []string
			for _, f := range err.Fields {
				if f.Location != "body.password" {
					t.Errorf("location %q, want body.password", f.Location)
				}
				msgs = append(msgs, f.Message)
			}
			if !strings.Contains(strings.Join(msgs, "; "), tt.want) {
				t.Fatalf("messages %q do not mention %q", msgs, tt.want)
			}
		})
	}
}
