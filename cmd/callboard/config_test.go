package main

import (
	"io"
	"strings"
	"testing"
)

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // empty: parses
		check   func(t *testing.T, c *config)
	}{
		{name: "defaults", check: func(t *testing.T, c *config) {
			if c.PublicURL != "http://localhost:8000" || c.SMTPURL != "" || c.MailFrom != "Callboard <no-reply@localhost>" {
				t.Errorf("public URL %q, SMTP %q, from %q", c.PublicURL, c.SMTPURL, c.MailFrom)
			}
		}},
		{name: "public URL follows the port", args: []string{"--addr", "127.0.0.1:9090"}, check: func(t *testing.T, c *config) {
			if c.PublicURL != "http://localhost:9090" {
				t.Errorf("public URL %q", c.PublicURL)
			}
		}},
		{name: "mail settings from the environment", env: map[string]string{"CALLBOARD_SMTP_URL": "smtp://u:p@mail.example.com:587",
			"CALLBOARD_MAIL_FROM": "Dash <dash@example.com>", "CALLBOARD_PUBLIC_URL": "https://dash.example.com"},
			check: func(t *testing.T, c *config) {
				if c.SMTPURL != "smtp://u:p@mail.example.com:587" || c.MailFrom != "Dash <dash@example.com>" || c.PublicURL != "https://dash.example.com" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "bad sender", args: []string{"--mail-from", "nobody"}, wantErr: "--mail-from"},
		{name: "bad address", args: []string{"--addr", "8000"}, wantErr: "--addr"},
		{name: "bad currency", args: []string{"--billing-currency", "rupees"}, wantErr: "--billing-currency"},
		{name: "bad hash concurrency", args: []string{"--hash-concurrency", "0"}, wantErr: "--hash-concurrency"},
		{name: "bad refresh grace", args: []string{"--refresh-grace", "2m"}, wantErr: "--refresh-grace"},
		{name: "bad proxy", args: []string{"--trusted-proxies", "10.0.0.0/33"}, wantErr: "--trusted-proxies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig("serve", tt.args, func(k string) string { return tt.env[k] }, io.Discard, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}
