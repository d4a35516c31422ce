package auth

import "strings"

// Device is what a user agent says about the device that sent it.
type Device struct {
	Browser string // "Chrome", "Firefox", … or "" when unknown
	OS      string // "Android", "iOS", "Windows", … or "" when unknown
	Mobile  bool
}

// String is a short description such as "Chrome on Android".
func (d Device) String() string {
	switch {
	case d.Browser != "" && d.OS != "":
		return d.Browser + " on " + d.OS
	case d.Browser != "":
		return d.Browser
	case d.OS != "":
		return d.OS
	}
	return "Unknown device"
}

// DescribeDevice is ParseDevice(ua).String().
func DescribeDevice(ua string) string { return ParseDevice(ua).String() }

// ParseDevice reads the browser and system of the common user agents. The
// order matters: Edge and Opera say "Chrome", Chrome says "Safari", and
// Android says "Linux".
func ParseDevice(ua string) Device {
	var d Device
	has := func(s string) bool { return strings.Contains(ua, s) }
	switch {
	case has("EdgA/"), has("EdgiOS/"), has("Edg/"), has("Edge/"):
		d.Browser = "Edge"
	case has("OPR/"), has("Opera"):
		d.Browser = "Opera"
	case has("SamsungBrowser/"):
		d.Browser = "Samsung Internet"
	case has("Firefox/"), has("FxiOS/"):
		d.Browser = "Firefox"
	case has("CriOS/"), has("Chrome/"), has("Chromium/"):
		d.Browser = "Chrome"
	case has("Safari/") && has("Version/"):
		d.Browser = "Safari"
	case has("curl/"):
		d.Browser = "curl"
	case strings.HasPrefix(ua, "callboard"):
		d.Browser = "Callboard"
	}
	switch {
	case has("iPhone"), has("iPod"):
		d.OS, d.Mobile = "iOS", true
	case has("iPad"):
		d.OS, d.Mobile = "iPadOS", true
	case has("Android"):
		d.OS, d.Mobile = "Android", true
	case has("Windows"):
		d.OS = "Windows"
	case has("CrOS"):
		d.OS = "ChromeOS"
	case has("Mac OS X"), has("Macintosh"):
		d.OS = "macOS"
	case has("Linux"):
		d.OS = "Linux"
	}
	if has("Mobile") && d.OS != "" {
		d.Mobile = true
	}
	return d
}
