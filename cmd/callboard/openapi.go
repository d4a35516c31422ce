package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"callboard/internal/app"
	"callboard/internal/auth"
)

// openapiCommand is "callboard openapi": it prints the OpenAPI document the
// server would serve at /openapi.json, without a server or a configured
// database (the web client is generated from it: npm run gen:api in web/).
func openapiCommand(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("usage: callboard openapi (takes no arguments)")
	}
	dir, err := os.MkdirTemp("", "callboard-openapi-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	key := make([]byte, auth.MinSigningKeyLen)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	a, err := app.Open(ctx, app.Settings{DataDir: dir, Config: app.Config{Auth: auth.Config{SigningKey: key}}})
	if err != nil {
		return err
	}
	defer a.Close()
	h := a.Handler(app.HTTP{Registry: prometheus.NewRegistry(), Version: version})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("openapi.json: status %d", rec.Code)
	}
	_, err = stdout.Write(rec.Body.Bytes())
	return err
}
