// Package phone turns what people type as a phone number into E.164, with
// libphonenumber's rules.
package phone

import (
	"errors"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is used for numbers written without a country code when the
// user has no region of their own: most of Callboard's customers are in Pakistan.
const DefaultRegion = "PK"

// maxInputLen bounds what is handed to the parser.
const maxInputLen = 64

// ErrInvalid is returned for anything that is not a valid, dialable number.
var ErrInvalid = errors.New("not a valid phone number")

// Normalize parses raw (national or international form; spaces, dashes and
// brackets allowed) in region and returns it in E.164 ("+923001234567").
func Normalize(raw, region string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxInputLen {
		return "", ErrInvalid
	}
	if region == "" {
		region = DefaultRegion
	}
	num, err := phonenumbers.Parse(raw, strings.ToUpper(region))
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", ErrInvalid
	}
	e164 := phonenumbers.Format(num, phonenumbers.E164)
	// E.164 allows 15 digits at most; the metadata accepts some longer
	// German numbers ("+49 21000000000000"), which no network can dial.
	if len(e164)-1 > maxE164Digits {
		return "", ErrInvalid
	}
	return e164, nil
}

// maxE164Digits is the most digits an E.164 number has (ITU-T E.164 §6.1).
const maxE164Digits = 15

// RegionForTimezone guesses a default region from an IANA timezone, so a user
// in Asia/Dubai can type local numbers. Unknown zones give DefaultRegion.
func RegionForTimezone(tz string) string {
	if r, ok := regionByZone[tz]; ok {
		return r
	}
	return DefaultRegion
}

var regionByZone = map[string]string{
	"Asia/Karachi": "PK", "Asia/Dubai": "AE", "Asia/Riyadh": "SA", "Asia/Kolkata": "IN", "Asia/Calcutta": "IN",
	"Asia/Dhaka": "BD", "Asia/Qatar": "QA", "Asia/Kuwait": "KW", "Asia/Bahrain": "BH", "Asia/Muscat": "OM",
	"Europe/London": "GB", "America/New_York": "US", "America/Chicago": "US", "America/Denver": "US",
	"America/Los_Angeles": "US", "America/Toronto": "CA", "Australia/Sydney": "AU", "Europe/Berlin": "DE",
	"Asia/Kabul": "AF", "Asia/Tehran": "IR", "Asia/Singapore": "SG", "Asia/Kuala_Lumpur": "MY",
}

// CallParty is a caller or callee as a calling platform reports it, in
// canonical form: a phone number in E.164, "anonymous" or "unknown" (the
// platform could not see the number), or a SIP URI. ok is false for
// anything else.
//
// A number is read like this: spaces, dashes, dots and brackets are
// dropped and a leading 00 becomes +; then "+" with 7 to 15 digits after a
// known country code is E.164 as it is (the platform dialled it, so it is
// not checked against numbering plans), and a number without a country
// code is read as a national number of DefaultRegion.
func CallParty(raw string) (canonical string, ok bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxInputLen {
		return "", false
	}
	switch lower := strings.ToLower(raw); {
	case lower == "anonymous" || lower == "unknown":
		return lower, true
	case strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:"):
		return raw, isSIPURI(raw)
	}
	digits := make([]byte, 0, len(raw))
	plus := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && i == 0:
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')':
		default:
			return "", false
		}
	}
	if !plus && len(digits) > 2 && digits[0] == '0' && digits[1] == '0' {
		plus, digits = true, digits[2:]
	}
	if !plus {
		e164, err := Normalize(raw, DefaultRegion)
		return e164, err == nil
	}
	if len(digits) < 7 || len(digits) > maxE164Digits || digits[0] == '0' || !knownCountryCode(digits) {
		return "", false
	}
	return "+" + string(digits), true
}

// knownCountryCode reports whether digits start with an assigned country
// calling code (one to three digits).
func knownCountryCode(digits []byte) bool {
	cc := 0
	for i := 0; i < 3 && i < len(digits); i++ {
		cc = cc*10 + int(digits[i]-'0')
		if phonenumbers.GetRegionCodeForCountryCode(cc) != "ZZ" {
			return true
		}
	}
	return false
}

// isSIPURI checks the shape of a SIP URI (RFC 3261): the scheme, a user
// part and/or host, printable ASCII without spaces.
func isSIPURI(s string) bool {
	_, rest, _ := strings.Cut(s, ":")
	if rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return false
		}
	}
	if user, host, found := strings.Cut(rest, "@"); found && (user == "" || host == "") {
		return false
	}
	return true
}
