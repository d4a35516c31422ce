package auth

import (
	"fmt"

	"callboard/internal/mail"
)

// The letters auth sends, in English and Urdu (terms as in the web app's
// glossary). Names and addresses inside Urdu text are isolated (FSI…PDI),
// so a Latin address keeps its order in a right-to-left line.

func isolate(s string) string { return "\u2068" + s + "\u2069" }

func greeting(lang, firstName string) string {
	if lang == "ur" {
		if firstName == "" {
			return "السلام علیکم،"
		}
		return "السلام علیکم " + isolate(firstName) + "،"
	}
	if firstName == "" {
		return "Hello,"
	}
	return "Hello " + firstName + ","
}

// verifyLetter asks the reader to confirm the account's address.
func verifyLetter(lang, firstName, link string) mail.Letter {
	if lang == "ur" {
		return mail.Letter{Lang: "ur", Subject: "Callboard کے لیے اپنے ای میل ایڈریس کی تصدیق کریں", Greeting: greeting(lang, firstName),
			Paragraphs: []string{
				"براہ کرم تصدیق کریں کہ یہ ای میل ایڈریس آپ کا ہے۔ اس ایڈریس کے نام پلیٹ فارم کی بھیجی گئی کالز تصدیق کے بعد ہی آپ کے ڈیش بورڈ تک پہنچیں گی، اور اسی ایڈریس سے آپ بھولا ہوا پاس ورڈ دوبارہ ترتیب دے سکیں گے۔",
			},
			Action: &mail.Action{Label: "ای میل ایڈریس کی تصدیق کریں", URL: link},
			After: []string{
				"یہ لنک صرف ایک بار کام کرتا ہے اور 24 گھنٹے بعد ختم ہو جائے گا۔",
				"اگر آپ نے Callboard اکاؤنٹ نہیں بنایا تو اس ای میل کو نظر انداز کر دیں: لنک کھولے بغیر کچھ نہیں ہوگا۔",
			},
			Footer: "آپ کو یہ ای میل اس لیے ملی کہ یہ ایڈریس Callboard اکاؤنٹ کے لیے درج کیا گیا۔"}
	}
	return mail.Letter{Lang: "en", Subject: "Confirm your email address for Callboard", Greeting: greeting(lang, firstName),
		Paragraphs: []string{
			"Please confirm that this email address is yours. Calls the platform reports for this address reach your dashboard only once it is confirmed, and it is how you reset a forgotten password.",
		},
		Action: &mail.Action{Label: "Confirm email address", URL: link},
		After: []string{
			"This link works once and expires in 24 hours.",
			"If you did not create a Callboard account, ignore this email: nothing happens unless the link is opened.",
		},
		Footer: "You receive this email because this address was entered for a Callboard account."}
}

// changeLetter asks the reader to confirm a new address for the account.
func changeLetter(lang, firstName, link string) mail.Letter {
	if lang == "ur" {
		return mail.Letter{Lang: "ur", Subject: "Callboard کے لیے اپنے نئے ای میل ایڈریس کی تصدیق کریں", Greeting: greeting(lang, firstName),
			Paragraphs: []string{
				"آپ نے اپنے Callboard اکاؤنٹ کا ای میل ایڈریس بدل کر یہ ایڈریس کرنے کی درخواست کی ہے۔ تبدیلی اس ایڈریس کی تصدیق کے بعد ہی نافذ ہوگی۔",
			},
			Action: &mail.Action{Label: "نئے ای میل ایڈریس کی تصدیق کریں", URL: link},
			After: []string{
				"یہ لنک صرف ایک بار کام کرتا ہے اور 24 گھنٹے بعد ختم ہو جائے گا۔",
				"اگر یہ درخواست آپ نے نہیں کی تو اس ای میل کو نظر انداز کر دیں: یہ ایڈریس استعمال نہیں ہوگا۔",
			},
			Footer: "آپ کو یہ ای میل اس لیے ملی کہ یہ ایڈریس ایک Callboard اکاؤنٹ کے نئے ای میل کے طور پر درج کیا گیا۔"}
	}
	return mail.Letter{Lang: "en", Subject: "Confirm your new email address for Callboard", Greeting: greeting(lang, firstName),
		Paragraphs: []string{
			"You asked to change your Callboard account's email address to this one. The change takes effect once you confirm it.",
		},
		Action: &mail.Action{Label: "Confirm new email address", URL: link},
		After: []string{
			"This link works once and expires in 24 hours.",
			"If you did not ask for this, ignore this email: this address will not be used.",
		},
		Footer: "You receive this email because this address was entered as the new address of a Callboard account."}
}

// changeNoticeLetter tells the account's current address that a change to
// newEmail was asked for; link opens the profile (where the password is
// changed).
func changeNoticeLetter(lang, firstName, newEmail, link string) mail.Letter {
	if lang == "ur" {
		return mail.Letter{Lang: "ur", Subject: "آپ کے Callboard اکاؤنٹ کا ای میل ایڈریس بدلا جا رہا ہے", Greeting: greeting(lang, firstName),
			Paragraphs: []string{
				fmt.Sprintf("آپ کے Callboard اکاؤنٹ میں سائن ان کسی شخص نے اس کا ای میل ایڈریس بدل کر %s کرنے کی درخواست کی ہے۔ تبدیلی تبھی نافذ ہوگی جب اس ایڈریس سے اس کی تصدیق کی جائے۔", isolate(newEmail)),
				"اگر یہ آپ نے کیا ہے تو آپ کو کچھ کرنے کی ضرورت نہیں۔ اگر نہیں، تو فوراً اپنا پاس ورڈ بدلیں: اس سے یہ تبدیلی منسوخ ہو جائے گی اور باقی تمام ڈیوائسز سائن آؤٹ ہو جائیں گی۔",
			},
			Action: &mail.Action{Label: "اپنا پاس ورڈ بدلیں", URL: link},
			Footer: "آپ کو یہ ای میل اس لیے ملی کہ یہ آپ کے Callboard اکاؤنٹ کا موجودہ ای میل ایڈریس ہے۔"}
	}
	return mail.Letter{Lang: "en", Subject: "Your Callboard email address is being changed", Greeting: greeting(lang, firstName),
		Paragraphs: []string{
			fmt.Sprintf("Someone signed in to your Callboard account asked to change its email address to %s. The change takes effect only once it is confirmed from that address.", newEmail),
			"If this was you, there is nothing to do. If not, change your password at once: that cancels the change and signs out every other device.",
		},
		Action: &mail.Action{Label: "Change your password", URL: link},
		Footer: "You receive this email because this is your Callboard account's current email address."}
}

// resetLetter carries a password-reset link.
func resetLetter(lang, firstName, link string) mail.Letter {
	if lang == "ur" {
		return mail.Letter{Lang: "ur", Subject: "اپنا Callboard پاس ورڈ دوبارہ ترتیب دیں", Greeting: greeting(lang, firstName),
			Paragraphs: []string{
				"اس ای میل ایڈریس والے Callboard اکاؤنٹ کا پاس ورڈ دوبارہ ترتیب دینے کی درخواست کی گئی ہے۔ نیا پاس ورڈ منتخب کرنے کے لیے نیچے دیا گیا لنک کھولیں۔",
			},
			Action: &mail.Action{Label: "نیا پاس ورڈ منتخب کریں", URL: link},
			After: []string{
				"یہ لنک صرف ایک بار کام کرتا ہے اور 1 گھنٹے بعد ختم ہو جائے گا۔ پاس ورڈ بدلنے پر آپ تمام ڈیوائسز سے سائن آؤٹ ہو جائیں گے۔",
				"اگر یہ درخواست آپ نے نہیں کی تو اس ای میل کو نظر انداز کر دیں: آپ کا پاس ورڈ نہیں بدلے گا۔",
			},
			Footer: "آپ کو یہ ای میل اس لیے ملی کہ اس ایڈریس کے لیے پاس ورڈ دوبارہ ترتیب دینے کی درخواست کی گئی۔"}
	}
	return mail.Letter{Lang: "en", Subject: "Reset your Callboard password", Greeting: greeting(lang, firstName),
		Paragraphs: []string{
			"Someone asked to reset the password of the Callboard account with this email address. Open the link below to choose a new password.",
		},
		Action: &mail.Action{Label: "Choose a new password", URL: link},
		After: []string{
			"This link works once and expires in 1 hour. Setting a new password signs you out on every device.",
			"If you did not ask for this, ignore this email: your password stays as it is.",
		},
		Footer: "You receive this email because a password reset was asked for this address."}
}
