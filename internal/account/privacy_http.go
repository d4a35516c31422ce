package account

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/audit"
	"callboard/internal/principal"
)

type deleteAccountInput struct {
	audit.Client
	Body struct {
		Password string `json:"password" maxLength:"1024"`
		Confirm  string `json:"confirm" maxLength:"16" doc:"Exactly \"DELETE\"."`
	}
}

type dataExportInput struct {
	audit.Client
}

func (s *Service) registerPrivacy(api huma.API) {
	tags := []string{"Privacy"}
	huma.Register(api, huma.Operation{
		OperationID: "delete-account", Method: http.MethodPost, Path: base + "delete-account/",
		Summary: "Delete your account", Tags: tags, Security: principal.UserSecurity,
		Description: "Needs your password and `confirm: \"DELETE\"`; otherwise 422 and nothing changes. Then every device is " +
			"signed out, sign-in becomes impossible, and your name, email, phone, avatar and the numbers of your calls are " +
			"erased; invoices are kept, anonymised, for accounting. The email can be registered again.",
		DefaultStatus: http.StatusNoContent, MaxBodyBytes: 4 << 10,
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests},
	}, s.deleteAccount)
	huma.Register(api, huma.Operation{
		OperationID: "export-data", Method: http.MethodGet, Path: base + "export-data/",
		Summary: "Download everything stored about you", Tags: tags, Security: principal.UserSecurity,
		Description: "A ZIP archive, streamed as it is made: profile.json, settings.json, preferences.json, sessions.json, " +
			"notifications.json, calls.csv, invoices.json, audit.json, your avatar and a README.txt saying what each holds. " +
			"One export every 5 minutes (429 with Retry-After otherwise).",
		Errors: []int{http.StatusUnauthorized, http.StatusTooManyRequests},
		Responses: map[string]*huma.Response{"200": {
			Description: "A ZIP archive",
			Headers:     map[string]*huma.Param{"Content-Disposition": {Schema: &huma.Schema{Type: "string"}, Description: `attachment; filename="callboard-export-YYYYMMDD.zip"`}},
			Content:     map[string]*huma.MediaType{"application/zip": {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
		}},
	}, s.exportData)
}

func (s *Service) deleteAccount(ctx context.Context, in *deleteAccountInput) (*struct{}, error) {
	return nil, s.DeleteAccount(ctx, principal.From(ctx).UserID, in.Body.Password, in.Body.Confirm, in.Client)
}

func (s *Service) exportData(ctx context.Context, in *dataExportInput) (*huma.StreamResponse, error) {
	userID := principal.From(ctx).UserID
	exp, err := s.Export(ctx, userID, in.Client)
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		defer exp.Close()
		hc.SetHeader("Content-Type", "application/zip")
		hc.SetHeader("Content-Disposition", `attachment; filename="`+exp.Filename+`"`)
		hc.SetHeader("Cache-Control", "no-store")
		// Each write has httpapi's write deadline: a client that stops
		// reading loses the download rather than holding an export slot.
		if err := exp.WriteZip(hc.Context(), hc.BodyWriter()); err != nil {
			// The answer has started: cut the connection so the client sees
			// an incomplete download rather than a truncated archive.
			s.logger.ErrorContext(hc.Context(), "export data", "user_id", userID, "err", err)
			panic(http.ErrAbortHandler)
		}
	}}, nil
}

// auditProfileChange records which profile fields a patch changed (their
// names, never their values).
func (s *Service) auditProfileChange(ctx context.Context, userID int64, p ProfilePatch, client audit.Client) error {
	if s.privacy.cfg.Audit == nil {
		return nil
	}
	var fields []string
	for name, set := range map[string]bool{"first_name": p.FirstName.Set, "last_name": p.LastName.Set, "phone": p.Phone.Set} {
		if set {
			fields = append(fields, name)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	slices.Sort(fields)
	return s.privacy.cfg.Audit.Record(ctx, client.Entry(userID, audit.ActionProfileUpdated, map[string]string{"fields": strings.Join(fields, ",")}))
}
