package plaintext

import "testing"

func TestProblem(t *testing.T) {
	tests := []struct {
		name, in string
		bad      bool
	}{
		{"latin", "Ayesha Khan", false},
		{"urdu", "عائشہ خان", false},
		{"empty", "", false},
		{"nul", "a\x00b", true},
		{"not utf-8", "a\xffb", true},
		{"replacement character", "a\uFFFDb", true},
		{"newline", "a\nb", true},
	}
	for _, tt := range tests {
		if got := Problem(tt.in) != ""; got != tt.bad {
			t.Errorf("%s: Problem(%q) refused=%v, want %v", tt.name, tt.in, got, tt.bad)
		}
	}
}

func TestHasBidiControl(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Ali", false},
		{"علی", false},
		{"Ali\u202Egpj.exe", true},
		{"\u2066x\u2069", true},
		{"\u200Fmark", false}, // a plain right-to-left mark reorders nothing around the name
	}
	for _, tt := range tests {
		if got := HasBidiControl(tt.in); got != tt.want {
			t.Errorf("HasBidiControl(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestProblemMultiline(t *testing.T) {
	tests := []struct {
		name, in string
		bad      bool
	}{
		{"lines and tabs", "Agent: hello\r\nCustomer:\tyes", false},
		{"urdu", "جی ہاں\nشکریہ", false},
		{"nul", "a\x00b", true},
		{"escape", "a\x1b[31mb", true},
		{"not utf-8", "a\xffb", true},
		{"replacement character", "a\uFFFDb", true},
	}
	for _, tt := range tests {
		if got := ProblemMultiline(tt.in) != ""; got != tt.bad {
			t.Errorf("%s: ProblemMultiline(%q) refused=%v, want %v", tt.name, tt.in, got, tt.bad)
		}
	}
}
