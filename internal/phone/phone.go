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
