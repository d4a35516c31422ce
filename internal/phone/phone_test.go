package phone

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		raw, region, want string
	}{
		{"0300 1234567", "", "+923001234567"},
		{"0300-123-4567", "PK", "+923001234567"},
		{"(0300) 1234567", "pk", "+923001234567"},
		{"+92 300 1234567", "GB", "+923001234567"},
		{"00923001234567", "", "+923001234567"},
		{"  +44 20 7946 0958 ", "", "+442079460958"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"050 123 4567", "AE", "+971501234567"},
		{"(201) 555-0123", "US", "+12015550123"},
	}
	for _, tt := range cases {
		got, err := Normalize(tt.raw, tt.region)
		if err != nil || got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		}
	}
	for _, raw := range []string{"", "   ", "12345", "call me", "+92", "0300 12345678901234", strings.Repeat("3", 65), "+999 1234567", "020 7946 0958", "+4921000000000000"} {
		if got, err := Normalize(raw, "PK"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", raw, got, err)
		}
	}
}

func TestRegionForTimezone(t *testing.T) {
	for tz, want := range map[string]string{"Asia/Karachi": "PK", "Europe/London": "GB", "Asia/Dubai": "AE", "UTC": DefaultRegion, "": DefaultRegion, "Mars/Base": DefaultRegion} {
		if got := RegionForTimezone(tz); got != want {
			t.Errorf("RegionForTimezone(%q) = %q, want %q", tz, got, want)
		}
	}
}

// FuzzNormalize checks that any input either is refused with ErrInvalid or
// comes out as E.164 ('+', then 7 to 15 digits) that normalizes to itself.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []struct{ raw, region string }{
		{"0300 1234567", "PK"}, {"+44 20 7946 0958", ""}, {"(201) 555-0123", "US"}, {"050 123 4567", "AE"},
		{"", ""}, {"+", "PK"}, {"00", "GB"}, {"+92 (300) 123-4567 ext. 89", "PK"}, {"٠٣٠٠١٢٣٤٥٦٧", "PK"},
		{"tel:+923001234567", ""}, {"+1 800 FLOWERS", "US"}, {"0300 1234567", "ZZ"}, {"0300 1234567", "p\x00k"},
		{strings.Repeat("9", 64), "PK"}, {"\xff\xfe", "PK"},
	} {
		f.Add(seed.raw, seed.region)
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := Normalize(raw, region)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Normalize(%q, %q): error %v is not ErrInvalid", raw, region, err)
			}
			return
		}
		if !utf8.ValidString(got) || len(got) < 8 || len(got) > 16 || got[0] != '+' || strings.Trim(got[1:], "0123456789") != "" {
			t.Fatalf("Normalize(%q, %q) = %q, not E.164", raw, region, got)
		}
		again, err := Normalize(got, "")
		if err != nil || again != got {
			t.Fatalf("Normalize(%q) = %q, %v; E.164 output must be stable", got, again, err)
		}
	})
}

func TestCallParty(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		ok        bool
	}{
		{"+923001234567", "+923001234567", true},
		{" +92 300 123-4567 ", "+923001234567", true},
		{"+1 (415) 555.0100", "+14155550100", true},
		{"00442071234567", "+442071234567", true},
		{"03001234567", "+923001234567", true}, // national, read as Pakistani
		{"+2901234", "+2901234", true},         // St Helena: 7 digits
		{"anonymous", "anonymous", true},
		{"Unknown", "unknown", true},
		{"sip:alice@example.com", "sip:alice@example.com", true},
		{"SIPS:bob@10.0.0.1:5061", "SIPS:bob@10.0.0.1:5061", true},
		{"sip:pbx.example.com", "sip:pbx.example.com", true},

		{"", "", false},
		{"   ", "", false},
		{"+0123456789", "", false},            // no country code starts with 0
		{"+99912345678", "", false},           // 999 is not assigned
		{"+12345", "", false},                 // too short
		{"+1234567890123456", "", false},      // 16 digits
		{"+92 300 CALL-NOW", "", false},       // letters
		{"12+345", "", false},                 // + inside
		{"hello", "", false},                  // not a number nor a known word
		{"private", "", false},                // not one of the documented words
		{"sip:", "", false},                   // nothing after the scheme
		{"sip:@example.com", "", false},       // empty user
		{"sip:alice@", "", false},             // empty host
		{"sip:al ice@example.com", "", false}, // space
		{"0300", "", false},                   // national but too short
		{strings.Repeat("1", 65), "", false},  // too long to read
	} {
		got, ok := CallParty(tc.raw)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("CallParty(%q) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzCallParty: whatever the platform sends, CallParty does not panic, and
// what it accepts is canonical: reading it again gives it back unchanged.
func FuzzCallParty(f *testing.F) {
	for _, s := range []string{"+923001234567", "0300 1234567", "anonymous", "sip:a@b", "00442071234567", "+1 (415) 555.0100", "sips:", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := CallParty(raw)
		if !ok {
			return
		}
		again, ok2 := CallParty(got)
		if !ok2 || again != got {
			t.Fatalf("CallParty(%q) = %q, which reads as %q, %v", raw, got, again, ok2)
		}
	})
}
