package billing

import (
	"bytes"
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/principal"
)

// PlatformGate admits the calling platform's machine requests (calls'
// platform key check), for POST /api/platform/invoices/{id}/paid/.
type PlatformGate interface {
	PlatformAuth(api huma.API) func(huma.Context, func(huma.Context))
}

// PlatformGateFunc adapts a function to PlatformGate.
type PlatformGateFunc func(api huma.API) func(huma.Context, func(huma.Context))

// PlatformAuth calls f.
func (f PlatformGateFunc) PlatformAuth(api huma.API) func(huma.Context, func(huma.Context)) {
	return f(api)
}

type subscriptionInput struct {
	HistoryLimit  int   `query:"history_limit" doc:"Invoices per page of billing_history: 1–100, default 20."`
	HistoryBefore int64 `query:"history_before" doc:"billing_history.next_cursor of the previous page."`
}

type subscriptionOutput struct{ Body SubscriptionPage }

type previewInput struct {
	Plan string `query:"plan" doc:"Code of the plan to preview, like pro." required:"true"`
}

type previewOutput struct{ Body ChangePreview }

type changeInput struct {
	Body struct {
		Plan string `json:"plan" doc:"Code of the plan to move to, like pro." maxLength:"40"`
	}
}

type changeOutput struct{ Body ChangeResult }

type currentOutput struct{ Body CurrentSubscription }

type invoicePDFInput struct {
	ID int64 `path:"id" doc:"The invoice's id."`
}

type markPaidInput struct {
	ID   int64 `path:"id" doc:"The invoice's id."`
	Body *struct {
		Reference string `json:"reference,omitempty" maxLength:"200" doc:"The payment's reference at the payer's end."`
	}
}

type invoiceOutput struct{ Body Invoice }

// Register adds the subscription page, plan changes, cancel and resume,
// invoice PDFs and, with a platform gate, the platform's mark-paid.
func (s *Service) Register(api huma.API) {
	tags := []string{"Subscription"}
	base := "/api/dashboard/user/subscription/"
	errs := []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict, http.StatusUnprocessableEntity}
	huma.Register(api, huma.Operation{
		OperationID: "subscription-get", Method: http.MethodGet, Path: base, Tags: tags, Security: principal.UserSecurity,
		Summary:     "Your subscription, plans, usage and invoices",
		Description: "The current plan and period, the plans you may move to (upgrade now, prorated; downgrade at the period's end), this period's usage, the actions allowed now, and a page of invoices with their lines. Every amount is in minor units with its currency.",
		Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.getSubscription)
	huma.Register(api, huma.Operation{
		OperationID: "subscription-change-preview", Method: http.MethodGet, Path: base + "change/preview/", Tags: tags, Security: principal.UserSecurity,
		Summary:     "What changing plan would invoice",
		Description: "The exact prorated lines and total an upgrade invoices now, or when a downgrade takes effect. Changes nothing.",
		Errors:      errs,
	}, s.previewChange)
	huma.Register(api, huma.Operation{
		OperationID: "subscription-change", Method: http.MethodPost, Path: base + "change/", Tags: tags, Security: principal.UserSecurity,
		Summary:     "Change plan",
		Description: "An upgrade takes effect now and issues an invoice prorated to the day; a downgrade is scheduled for the period's end. Choosing your current plan undoes a pending downgrade or cancellation.",
		Errors:      errs,
	}, s.change)
	huma.Register(api, huma.Operation{
		OperationID: "subscription-cancel", Method: http.MethodPost, Path: base + "cancel/", Tags: tags, Security: principal.UserSecurity,
		Summary:     "Cancel at the period's end",
		Description: "You keep your plan until the period ends, then move to the free plan. Resume undoes it.",
		Errors:      errs,
	}, s.cancel)
	huma.Register(api, huma.Operation{
		OperationID: "subscription-resume", Method: http.MethodPost, Path: base + "resume/", Tags: tags, Security: principal.UserSecurity,
		Summary: "Undo a pending cancellation or downgrade",
		Errors:  errs,
	}, s.resume)
	huma.Register(api, huma.Operation{
		OperationID: "subscription-invoice-pdf", Method: http.MethodGet, Path: base + "invoices/{id}/pdf/", Tags: tags, Security: principal.UserSecurity,
		Summary: "One of your invoices as PDF",
		Errors:  []int{http.StatusUnauthorized, http.StatusNotFound},
		Responses: map[string]*huma.Response{"200": {
			Description: "The invoice",
			Headers:     map[string]*huma.Param{"Content-Disposition": {Schema: &huma.Schema{Type: "string"}, Description: `attachment; filename="CB-000123.pdf"`}},
			Content:     map[string]*huma.MediaType{"application/pdf": {Schema: &huma.Schema{Type: "string", Format: "binary"}}},
		}},
	}, s.invoicePDF)
	if s.platform != nil {
		huma.Register(api, huma.Operation{
			OperationID: "platform-invoice-paid", Method: http.MethodPost, Path: "/api/platform/invoices/{id}/paid/", Tags: []string{"Platform"},
			Summary:     "Record an invoice as paid",
			Description: "For the platform's billing, with the platform key. An open invoice becomes paid; a past_due subscription with nothing else overdue becomes active.",
			Security:    []map[string][]string{{"platformKey": {}}}, Middlewares: huma.Middlewares{s.platform.PlatformAuth(api)},
			Errors: []int{http.StatusUnauthorized, http.StatusNotFound, http.StatusConflict},
		}, s.markPaid)
	}
}

func (s *Service) getSubscription(ctx context.Context, in *subscriptionInput) (*subscriptionOutput, error) {
	o, err := s.Subscription(ctx, principal.From(ctx).UserID, in.HistoryLimit, in.HistoryBefore)
	if err != nil {
		return nil, err
	}
	return &subscriptionOutput{Body: o}, nil
}

func (s *Service) previewChange(ctx context.Context, in *previewInput) (*previewOutput, error) {
	p, err := s.PreviewChange(ctx, principal.From(ctx).UserID, in.Plan)
	if err != nil {
		return nil, err
	}
	return &previewOutput{Body: p}, nil
}

func (s *Service) change(ctx context.Context, in *changeInput) (*changeOutput, error) {
	r, err := s.ChangePlan(ctx, principal.From(ctx).UserID, in.Body.Plan)
	if err != nil {
		return nil, err
	}
	return &changeOutput{Body: r}, nil
}

func (s *Service) cancel(ctx context.Context, _ *struct{}) (*currentOutput, error) {
	c, err := s.Cancel(ctx, principal.From(ctx).UserID)
	if err != nil {
		return nil, err
	}
	return &currentOutput{Body: c}, nil
}

func (s *Service) resume(ctx context.Context, _ *struct{}) (*currentOutput, error) {
	c, err := s.Resume(ctx, principal.From(ctx).UserID)
	if err != nil {
		return nil, err
	}
	return &currentOutput{Body: c}, nil
}

func (s *Service) invoicePDF(ctx context.Context, in *invoicePDFInput) (*huma.StreamResponse, error) {
	inv, err := s.Invoice(ctx, principal.From(ctx).UserID, in.ID)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer // an invoice is a few kilobytes: render whole, so a failure is still a clean 500
	if err := WritePDF(&buf, inv); err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "application/pdf")
		hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.pdf"`, inv.Number))
		hc.SetHeader("Content-Length", fmt.Sprint(buf.Len()))
		_, _ = hc.BodyWriter().Write(buf.Bytes())
	}}, nil
}

func (s *Service) markPaid(ctx context.Context, in *markPaidInput) (*invoiceOutput, error) {
	ref := ""
	if in.Body != nil {
		ref = in.Body.Reference
	}
	inv, err := s.MarkPaid(ctx, in.ID, "platform", ref)
	if err != nil {
		return nil, err
	}
	return &invoiceOutput{Body: inv}, nil
}
