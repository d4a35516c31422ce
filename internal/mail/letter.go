package mail

import (
	"html/template"
	"strings"
)

// Letter is an email's content in one language. Capabilities write their
// words; Render lays every letter out the same way, as plain text and as
// HTML (right to left for Urdu).
type Letter struct {
	Lang       string // "en" or "ur"
	Subject    string
	Greeting   string   // "Hello Ayesha,"
	Paragraphs []string // before the action
	Action     *Action  // the one thing to do: a button, and the link in the text
	After      []string // after the action, such as how long a link is valid
	Footer     string   // why the reader receives this
	// Unsubscribe, when set, is a link to stop this kind of email, shown
	// under the footer.
	Unsubscribe      string
	UnsubscribeLabel string
}

// Action is a link the letter asks the reader to follow.
type Action struct {
	Label string
	URL   string
}

// Message returns the letter as an email message to to.
func (l Letter) Message(userID int64, kind, to string) Message {
	text, html := l.Render()
	return Message{UserID: userID, Channel: ChannelEmail, Kind: kind, To: to, Subject: l.Subject, Text: text, HTML: html}
}

// Render returns the letter as plain text and as HTML.
func (l Letter) Render() (text, html string) {
	var t strings.Builder
	para := func(p string) {
		if p != "" {
			t.WriteString(p)
			t.WriteString("\n\n")
		}
	}
	para(l.Greeting)
	for _, p := range l.Paragraphs {
		para(p)
	}
	if l.Action != nil {
		para(l.Action.Label + ":\n" + l.Action.URL)
	}
	for _, p := range l.After {
		para(p)
	}
	if l.Footer != "" || l.Unsubscribe != "" {
		t.WriteString("--\n")
		if l.Footer != "" {
			t.WriteString(l.Footer + "\n")
		}
		if l.Unsubscribe != "" {
			t.WriteString(l.UnsubscribeLabel + ": " + l.Unsubscribe + "\n")
		}
	}

	var h strings.Builder
	dir := "ltr"
	if l.Lang == "" {
		l.Lang = "en"
	}
	if l.Lang == "ur" {
		dir = "rtl"
	}
	if err := letterHTML.Execute(&h, struct {
		Letter
		Dir string
	}{l, dir}); err != nil {
		// The template and its data are ours; text alone still informs.
		return t.String(), ""
	}
	return t.String(), h.String()
}

// letterHTML is deliberately plain: inline styles (mail clients drop style
// sheets), one column, system fonts, and a real link under the button for
// clients that hide buttons.
var letterHTML = template.Must(template.New("letter").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}" dir="{{.Dir}}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:0;background:#f4f5f7;">
<div style="max-width:560px;margin:0 auto;padding:24px 16px;font-family:{{if eq .Lang "ur"}}'Noto Nastaliq Urdu','Noto Naskh Arabic',{{end}}-apple-system,'Segoe UI',Roboto,Arial,sans-serif;font-size:16px;line-height:1.6;color:#1f2933;text-align:start;">
<div style="background:#ffffff;border-radius:8px;padding:24px;">
<p style="margin:0 0 16px;font-weight:600;font-size:18px;">Callboard</p>
{{with .Greeting}}<p style="margin:0 0 16px;">{{.}}</p>{{end}}
{{range .Paragraphs}}<p style="margin:0 0 16px;">{{.}}</p>{{end}}
{{with .Action}}<p style="margin:24px 0;"><a href="{{.URL}}" style="display:inline-block;background:#1d4ed8;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-weight:600;">{{.Label}}</a></p>
<p style="margin:0 0 16px;font-size:13px;color:#52606d;word-break:break-all;"><a href="{{.URL}}" style="color:#1d4ed8;">{{.URL}}</a></p>{{end}}
{{range .After}}<p style="margin:0 0 16px;">{{.}}</p>{{end}}
</div>
{{if or .Footer .Unsubscribe}}<p style="margin:16px 0 0;font-size:13px;color:#52606d;">{{.Footer}}{{with .Unsubscribe}} <a href="{{.}}" style="color:#52606d;">{{$.UnsubscribeLabel}}</a>{{end}}</p>{{end}}
</div>
</body>
</html>
`))
