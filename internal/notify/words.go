package notify

import (
	"callboard/internal/account"
	"callboard/internal/billing"
	"callboard/internal/calls"
)

// The words of notification messages and product news, in English and
// Urdu (terms from the web app's glossary). A notification's own English
// title and body are what the dashboard shows; in Urdu each kind has its
// sentences here, filled in from the event's data.

// words are the fixed phrases of one language. Verbs with %d take a count,
// %s a name or title.
type words struct {
	greeting      string // %s: first name
	open          string // the button to the dashboard's notifications
	footer        string // why a notification email arrives
	settings      string // the link to the notification settings
	digestSubject string // %d notifications
	digestIntro   string // %d notifications
	digestMore    string // %d more than listed
	smsDigest     string // %d notifications, %s the latest title
	newsFooter    string // why product news arrives
	newsStop      string // the unsubscribe link's label
}

var english = words{
	greeting:      "Hello %s,",
	open:          "Open your notifications",
	footer:        "You receive this email because email notifications are on in your Callboard settings.",
	settings:      "Change which notifications you receive",
	digestSubject: "%d new notifications",
	digestIntro:   "You have %d new notifications:",
	digestMore:    "…and %d more in your dashboard.",
	smsDigest:     "Callboard: %d new notifications. Latest: %s",
	newsFooter:    "You receive this email because you chose product news and offers in your Callboard settings.",
	newsStop:      "Unsubscribe",
}

var urdu = words{
	greeting:      "السلام علیکم %s،",
	open:          "اپنی اطلاعات دیکھیں",
	footer:        "آپ کو یہ ای میل اس لیے ملی ہے کہ آپ کی Callboard ترتیبات میں ای میل کے ذریعے اطلاعات آن ہیں۔",
	settings:      "اطلاعات کی ترتیبات تبدیل کریں",
	digestSubject: "%d نئی اطلاعات",
	digestIntro:   "آپ کے لیے %d نئی اطلاعات ہیں:",
	digestMore:    "…اور %d مزید اطلاعات ڈیش بورڈ میں۔",
	smsDigest:     "Callboard: %d نئی اطلاعات۔ تازہ ترین: %s",
	newsFooter:    "آپ کو یہ ای میل اس لیے ملی ہے کہ آپ نے اپنی Callboard ترتیبات میں نئی سہولیات اور پیشکشوں کی خبریں منتخب کی ہیں۔",
	newsStop:      "یہ ای میلز بند کریں",
}

func wordsFor(lang account.Language) words {
	if lang == account.LanguageUrdu {
		return urdu
	}
	return english
}

// text is a notification's title and body in one language.
type text struct{ title, body string }

// textOf is e's title and body in lang.
func textOf(lang account.Language, e Event) text {
	if lang != account.LanguageUrdu {
		return text{e.Title, e.Body}
	}
	if t, ok := urduText(e); ok {
		return t
	}
	// A kind without Urdu sentences yet: an Urdu title naming its
	// category, and the English text, so nothing is lost.
	title := map[string]string{
		CategoryCalls: "کالز کی اطلاع", CategoryBilling: "بلنگ کی اطلاع",
		CategorySecurity: "سیکیورٹی کی اطلاع", CategorySystem: "Callboard کی اطلاع",
	}[e.Category]
	body := e.Title
	if e.Body != "" {
		body += ": " + e.Body
	}
	return text{title, body}
}

// ltr isolates a left-to-right value (an invoice number, an address) in
// Urdu text, so the bidirectional algorithm keeps its characters in order.
func ltr(s string) string { return "\u2066" + s + "\u2069" }

// urduText is e in Urdu, for the kinds that have Urdu sentences.
func urduText(e Event) (text, bool) {
	d := e.Data
	switch e.Kind {
	case "call.missed":
		if d["status"] == string(calls.StatusBusy) {
			return text{"چھوٹی ہوئی کال", "لائن مصروف تھی۔"}, true
		}
		return text{"چھوٹی ہوئی کال", "ایک کال کا جواب نہیں دیا گیا۔"}, true
	case "call.finished":
		switch d["status"] {
		case string(calls.StatusCompleted):
			return text{"کال مکمل ہو گئی", "ایک کال کامیابی سے مکمل ہو گئی۔"}, true
		case string(calls.StatusFailed):
			return text{"کال ناکام ہو گئی", "ایک کال مکمل نہیں ہو سکی۔"}, true
		case string(calls.StatusCanceled):
			return text{"کال منسوخ ہو گئی", "ایک کال جڑنے سے پہلے منسوخ ہو گئی۔"}, true
		}
	case "password.changed":
		return text{"آپ کا پاس ورڈ تبدیل کر دیا گیا",
			"آپ کا پاس ورڈ تبدیل کر دیا گیا اور دوسرے آلات سے سائن آؤٹ کر دیا گیا۔ اگر یہ آپ نے نہیں کیا تو فوراً سپورٹ سے رابطہ کریں۔"}, true
	case "signin.new":
		return text{"نیا سائن ان",
			"آپ کے اکاؤنٹ میں پتے " + ltr(d["ip"]) + " سے سائن ان کیا گیا۔ اگر یہ آپ نہیں تھے تو اپنا پاس ورڈ تبدیل کریں۔"}, true
	case billing.EventInvoiceIssued:
		return text{"نئی انوائس " + ltr(d["invoice"]),
			"آپ کی انوائس " + ltr(d["invoice"]) + " جاری کر دی گئی ہے۔ رقم اور ادائیگی کی آخری تاریخ ڈیش بورڈ میں دیکھیں۔"}, true
	case billing.EventInvoicePaid:
		return text{"ادائیگی موصول ہو گئی", "انوائس " + ltr(d["invoice"]) + " ادا ہو گئی ہے۔ شکریہ۔"}, true
	case billing.EventPlanChanged:
		return text{"آپ کا پلان تبدیل ہو گیا", "آپ کا پلان تبدیل ہو گیا ہے۔ تفصیلات ڈیش بورڈ میں دیکھیں۔"}, true
	case billing.EventChangeScheduled:
		return text{"آپ کا پلان تبدیل ہونے والا ہے",
			"موجودہ مدت کے اختتام پر آپ کا پلان تبدیل ہو جائے گا؛ تب تک آپ موجودہ پلان پر رہیں گے۔"}, true
	case billing.EventCanceled:
		return text{"آپ کی سبسکرپشن منسوخ ہو گئی", "آپ کی سبسکرپشن منسوخ کر دی گئی ہے۔ تفصیلات ڈیش بورڈ میں دیکھیں۔"}, true
	case billing.EventResumed:
		return text{"آپ کی سبسکرپشن جاری رہے گی", "آپ کی سبسکرپشن موجودہ مدت کے بعد بھی جاری رہے گی۔"}, true
	case billing.EventUsage80, billing.EventUsage100:
		title := "آپ اپنے 80% منٹ استعمال کر چکے ہیں"
		if e.Kind == billing.EventUsage100 {
			title = "آپ اپنے تمام منٹ استعمال کر چکے ہیں"
		}
		return text{title, "اس مدت کے " + d["included_minutes"] + " شامل منٹ میں سے " + d["minutes_used"] + " استعمال ہو چکے ہیں۔"}, true
	}
	return text{}, false
}
