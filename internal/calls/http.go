package calls

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/plaintext"
	"callboard/internal/principal"
)

// PlatformScheme is the OpenAPI security scheme of the platform API: the
// platform key in X-Platform-Key (or as "Authorization: Bearer <key>").
const PlatformScheme = "platformKey"

// PlatformHeader is the header that carries the platform key.
const PlatformHeader = "X-Platform-Key"

// PlatformSecurity marks an operation as needing the platform key.
var PlatformSecurity = []map[string][]string{{PlatformScheme: {}}}

// maxIngestBody bounds an ingest request: 1000 calls with transcripts.
const maxIngestBody = 32 << 20

// IngestRequest is the body of POST /api/platform/calls/.
type IngestRequest struct {
	Calls []IngestCall `json:"calls" minItems:"1" maxItems:"1000" doc:"1 to 1000 calls."`
}

// ingestInput takes the body raw: it is decoded once, strictly, by
// decodeIngest, instead of Huma's generic decode, schema walk and second
// decode, which cost as much as storing the calls.
type ingestInput struct {
	RawBody []byte `contentType:"application/json"`
}

// decodeIngest decodes an ingest body, refusing unknown fields and
// trailing data. Errors: Invalid at "body".
func decodeIngest(raw []byte) (IngestRequest, error) {
	var req IngestRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err == nil {
		return req, nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	msg := "must be a JSON object like {\"calls\": [...]}"
	switch {
	case errors.As(err, &typeErr):
		msg = fmt.Sprintf("%s: expected %s", typeErr.Field, typeErr.Type)
	case errors.As(err, &syntaxErr):
		msg = fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		msg = strings.TrimPrefix(err.Error(), "json: ") + " (unknown fields are refused)"
	}
	return IngestRequest{}, apperr.Invalid("body", msg)
}

type ingestOutput struct {
	Body IngestSummary
}

// FilterParams are the history's filters, shared by the list and the
// export. Huma checks each one's form (the document shows them); filter
// turns them into the domain's ListFilter.
type FilterParams struct {
	Status      []string           `query:"status,explode" doc:"One or several of queued, ringing, in-progress, completed, busy, failed, no-answer, canceled: repeat the parameter or separate with commas."`
	Direction   string             `query:"direction" enum:"inbound,outbound" doc:"inbound or outbound."`
	Agent       int64              `query:"agent" minimum:"1" doc:"An agent id (agent.id of a call)."`
	DateFrom    string             `query:"date_from" format:"date" doc:"First day (YYYY-MM-DD) in your timezone, inclusive."`
	DateTo      string             `query:"date_to" format:"date" doc:"Last day (YYYY-MM-DD) in your timezone, inclusive; not before date_from."`
	Search      string             `query:"search" maxLength:"200" doc:"Words to find in the numbers, agent name, summary or transcript (prefix match; every word must match; at most 8 words). Digits find a number by any part of it."`
	EndReason   string             `query:"end_reason" maxLength:"64" doc:"Exactly as the platform reported it, like customer-ended."`
	Sentiment   string             `query:"sentiment" enum:"positive,neutral,negative" doc:"positive, neutral or negative."`
	MinDuration optionalParam[int] `query:"min_duration" minimum:"0" maximum:"604800" doc:"Shortest duration, in seconds."`
	MaxDuration optionalParam[int] `query:"max_duration" minimum:"0" maximum:"604800" doc:"Longest duration, in seconds; not less than min_duration."`
	Ordering    string             `query:"ordering" enum:"-started_at,started_at,-duration,duration,-satisfaction,satisfaction" doc:"-started_at (default), started_at, duration, -duration, satisfaction, -satisfaction. Unrated calls sort as the lowest satisfaction."`
}

// filter is p as the domain's typed filter. Errors: Invalid at
// query.search or query.end_reason for text that is not UTF-8 or holds
// control characters; at query.status for an unknown status (the comma form
// is split here, so Huma cannot check it).
func (p *FilterParams) filter() (ListFilter, error) {
	f := ListFilter{Direction: p.Direction, AgentID: p.Agent, Search: p.Search, EndReason: p.EndReason,
		Sentiment: p.Sentiment, Ordering: p.Ordering}
	// Text that cannot be stored cannot be matched either: refused here,
	// before a database sees it (PostgreSQL fails on NUL and bad bytes).
	var bad []apperr.FieldError
	for _, t := range []struct{ param, value string }{{"search", p.Search}, {"end_reason", p.EndReason}} {
		if msg := plaintext.Problem(t.value); msg != "" {
			bad = append(bad, apperr.FieldError{Location: "query." + t.param, Message: msg})
		}
	}
	if len(bad) > 0 {
		return ListFilter{}, apperr.InvalidFields(bad...)
	}
	for _, raw := range p.Status {
		for v := range strings.SplitSeq(raw, ",") {
			st := Status(strings.TrimSpace(v))
			if !st.Valid() {
				return ListFilter{}, apperr.Invalid("query.status", "each status must be one of "+joinStatuses(statuses))
			}
			if !slices.Contains(f.Statuses, st) {
				f.Statuses = append(f.Statuses, st)
			}
		}
	}
	// Huma has checked the dates' form.
	if p.DateFrom != "" {
		d, _ := time.Parse(time.DateOnly, p.DateFrom)
		f.DateFrom = &d
	}
	if p.DateTo != "" {
		d, _ := time.Parse(time.DateOnly, p.DateTo)
		f.DateTo = &d
	}
	f.MinDuration, f.MaxDuration = p.MinDuration.ptr(), p.MaxDuration.ptr()
	return f, nil
}

// documentStatuses shows the status filter's values in the operation at
// path. The document gets a schema of its own: the one Huma validates with
// stays free-form, because "completed,failed" is one value there and is
// checked, naming query.status, by FilterParams.filter.
func documentStatuses(api huma.API, path string) {
	item := api.OpenAPI().Paths[path]
	if item == nil || item.Get == nil {
		return
	}
	for i, p := range item.Get.Parameters {
		if p.Name != "status" || p.Schema == nil || p.Schema.Items == nil {
			continue
		}
		doc := *p.Schema
		items := *p.Schema.Items
		for _, st := range statuses {
			items.Enum = append(items.Enum, string(st))
		}
		doc.Items = &items
		param := *p
		param.Schema = &doc
		item.Get.Parameters[i] = &param
	}
}

// documentNullObjects says in the document what the ingest decoder does:
// agent and cost may be null, meaning "not given" like every other field of
// a report. (Huma's nullable tag does not apply to objects.)
func documentNullObjects(api huma.API) {
	call := api.OpenAPI().Components.Schemas.Map()["IngestCall"]
	if call == nil {
		return
	}
	for _, name := range []string{"agent", "cost"} {
		if prop := call.Properties[name]; prop != nil && prop.Ref != "" {
			call.Properties[name] = &huma.Schema{Description: prop.Description,
				AnyOf: []*huma.Schema{{Ref: prop.Ref}, {Type: "null"}}}
		}
	}
}

// optionalParam is a query parameter that may be absent (which 0 cannot
// tell apart): Huma parses and checks Value, Set says whether it was given.
type optionalParam[T any] struct {
	Value T
	Set   bool
}

// Schema is the wrapped type's.
func (o optionalParam[T]) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeFor[T]())
}

// Receiver implements huma.ParamWrapper.
func (o *optionalParam[T]) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

// OnParamSet implements huma.ParamReactor.
func (o *optionalParam[T]) OnParamSet(isSet bool, _ any) { o.Set = isSet }

func (o optionalParam[T]) ptr() *T {
	if !o.Set {
		return nil
	}
	v := o.Value
	return &v
}

// RequestURL captures the request's URL, to build next and previous links.
type RequestURL struct {
	URL url.URL `json:"-"`
}

// Resolve implements huma.Resolver.
func (r *RequestURL) Resolve(ctx huma.Context) []error {
	r.URL = ctx.URL()
	return nil
}

type listInput struct {
	RequestURL
	Page     int    `query:"page" minimum:"1" maximum:"1000" doc:"Page number (default 1). Pages reach the first 1000 results; next carries a cursor for deeper pages."`
	PageSize int    `query:"page_size" minimum:"1" maximum:"100" doc:"Results per page (default 20, at most 100)."`
	Cursor   string `query:"cursor" maxLength:"200" doc:"Opaque position from next or previous: constant cost at any depth."`
	FilterParams
}

// ListBody is a page of the history in the list envelope.
type ListBody struct {
	Count *int `json:"count" doc:"Calls matching the filters, exact up to 1000; when more match it is 1000 and count_exact is false. null on cursor pages (counting is skipped there), on searches for words common in your calls (the page is found by checking your newest calls; a count would check a thousand), and when counting would take over 100 ms (a filter no index serves over a very long history)."`
	// CountExact is false when count stopped at its cap.
	CountExact bool       `json:"count_exact" doc:"Whether count is exact."`
	Next       *string    `json:"next" doc:"The next page's URL (path and query), or null."`
	Previous   *string    `json:"previous" doc:"The previous page's URL (path and query), or null."`
	Results    []CallView `json:"results"`
}

type listOutput struct {
	Body ListBody
}

type getInput struct {
	ID int64 `path:"id" doc:"The call's id."`
}

type getOutput struct {
	Body CallDetail
}

type exportInput struct {
	FilterParams
}

// Register adds the calls operations to api: the platform's ingest (and
// its security scheme) and the customer's history, detail and export.
func (s *Service) Register(api huma.API) {
	principal.AddSecurityScheme(api, PlatformScheme, &huma.SecurityScheme{Type: "apiKey", In: "header", Name: PlatformHeader,
		Description: "The platform key (CALLBOARD_PLATFORM_KEY); `Authorization: Bearer <key>` works too."})
	huma.Register(api, huma.Operation{
		OperationID: "platform-calls-ingest", Method: http.MethodPost, Path: "/api/platform/calls/",
		Tags: []string{"Platform"}, Summary: "Report calls (create or update by external_id)",
		Description: "For the calling platform, with the platform key (X-Platform-Key or Authorization: Bearer), never a user token. " +
			"1 to 1000 calls per request, stored in one transaction; each call gets its own result by index, and a bad call does not block the others. " +
			"Idempotent: the same report twice changes nothing.\n\n" + mergeRulesDoc,
		Security: PlatformSecurity, MaxBodyBytes: maxIngestBody, SkipValidateBody: true,
		Middlewares: huma.Middlewares{s.platformAuth(api)},
		Errors:      []int{http.StatusUnauthorized, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity},
	}, s.ingest)
	// Document the body that decodeIngest reads (RawBody alone shows as bytes).
	if item := api.OpenAPI().Paths["/api/platform/calls/"]; item != nil && item.Post != nil && item.Post.RequestBody != nil {
		schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[IngestRequest](), true, "IngestRequest")
		documentNullObjects(api)
		item.Post.RequestBody.Required = true
		item.Post.RequestBody.Content = map[string]*huma.MediaType{"application/json": {Schema: schema}}
	}

	tags := []string{"Calls"}
	huma.Register(api, huma.Operation{
		OperationID: "calls-list", Method: http.MethodGet, Path: "/api/dashboard/user/calls/", Tags: tags,
		Summary: "Your call history", Security: principal.UserSecurity,
		Description: "Newest first unless ordering says otherwise. Invalid filters answer 422 naming the parameter. " +
			"Numbered pages reach the first 1000 results and carry a count; next is always a cursor link, whose pages cost the same at any depth. " +
			"A search runs at most 5 seconds (503 past that) and two at a time per user (429 past that).",
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity, http.StatusTooManyRequests, http.StatusServiceUnavailable},
	}, s.list)
	documentStatuses(api, "/api/dashboard/user/calls/")
	huma.Register(api, huma.Operation{
		OperationID: "calls-export", Method: http.MethodGet, Path: "/api/dashboard/user/calls/export/", Tags: tags,
		Summary: "Your call history as CSV", Security: principal.UserSecurity,
		Description: "The filtered history (same filters and ordering as the list, all pages) as a CSV download, streamed. " +
			"Times are in your timezone. Cells that a spreadsheet could run as a formula (starting with = + - @, their full-width forms or whitespace, or with such a line) are prefixed with a single quote; plain numbers and phone numbers are left as they are.",
		Errors: []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
		Responses: map[string]*huma.Response{"200": {
			Description: "CSV with a header row",
			Headers:     map[string]*huma.Param{"Content-Disposition": {Schema: &huma.Schema{Type: "string"}, Description: `attachment; filename="calls-YYYYMMDD.csv"`}},
			Content:     map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}},
		}},
	}, s.export)
	documentStatuses(api, "/api/dashboard/user/calls/export/")
	huma.Register(api, huma.Operation{
		OperationID: "calls-get", Method: http.MethodGet, Path: "/api/dashboard/user/calls/{id}/", Tags: tags,
		Summary: "One of your calls", Security: principal.UserSecurity,
		Errors: []int{http.StatusUnauthorized, http.StatusNotFound},
	}, s.get)
}

func (s *Service) ingest(ctx context.Context, in *ingestInput) (*ingestOutput, error) {
	req, err := decodeIngest(in.RawBody)
	if err != nil {
		return nil, err
	}
	sum, err := s.Ingest(ctx, req.Calls)
	if err != nil {
		return nil, apperr.Within("body.", err)
	}
	// The domain names a bad field within its call; the answer says where
	// in the body it is.
	for i := range sum.Results {
		r := &sum.Results[i]
		for j := range r.Errors {
			r.Errors[j].Location = "body.calls[" + strconv.Itoa(r.Index) + "]." + r.Errors[j].Location
		}
	}
	return &ingestOutput{Body: sum}, nil
}

func (s *Service) list(ctx context.Context, in *listInput) (*listOutput, error) {
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	page, err := s.List(ctx, principal.From(ctx).UserID, ListParams{ListFilter: f, Page: in.Page, PageSize: in.PageSize, Cursor: in.Cursor})
	if err != nil {
		return nil, apperr.Within("query.", err)
	}
	out := &listOutput{Body: ListBody{Count: page.Count, CountExact: page.CountExact, Results: page.Results}}
	link := func(param, value string) *string {
		q := in.URL.Query()
		q.Del("page")
		q.Del("cursor")
		q.Set(param, value)
		u := in.URL.Path + "?" + q.Encode()
		return &u
	}
	if page.NextCursor != "" {
		out.Body.Next = link("cursor", page.NextCursor)
	}
	switch {
	case page.PrevCursor != "":
		out.Body.Previous = link("cursor", page.PrevCursor)
	case page.PrevPage > 0:
		out.Body.Previous = link("page", strconv.Itoa(page.PrevPage))
	}
	return out, nil
}

func (s *Service) export(ctx context.Context, in *exportInput) (*huma.StreamResponse, error) {
	userID := principal.From(ctx).UserID
	f, err := in.filter()
	if err != nil {
		return nil, err
	}
	exp, err := s.NewExport(ctx, userID, f)
	if err != nil {
		return nil, apperr.Within("query.", err)
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hc.SetHeader("Content-Disposition", `attachment; filename="`+exp.Filename+`"`)
		w := hc.BodyWriter()
		flush := func() {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		if err := exp.WriteCSV(hc.Context(), w, flush); err != nil {
			// The answer has started: all that is left is to cut the
			// connection so the client sees an incomplete download.
			s.logger.ErrorContext(hc.Context(), "export calls", "user_id", userID, "err", err)
			panic(http.ErrAbortHandler)
		}
	}}, nil
}

func (s *Service) get(ctx context.Context, in *getInput) (*getOutput, error) {
	d, err := s.Get(ctx, principal.From(ctx).UserID, in.ID)
	if err != nil {
		return nil, err
	}
	return &getOutput{Body: d}, nil
}

// PlatformAuth is the platform key check as an operation middleware, for
// other capabilities' platform operations (billing's mark-paid).
func (s *Service) PlatformAuth(api huma.API) func(huma.Context, func(huma.Context)) {
	return s.platformAuth(api)
}

// platformAuth admits a request carrying the platform key, before its body
// is read. Keys are compared as SHA-256 digests in constant time, so
// neither their content nor their length leaks. With no key configured the
// platform API is disabled and every request is refused.
func (s *Service) platformAuth(api huma.API) func(huma.Context, func(huma.Context)) {
	want := sha256.Sum256(s.platformKey)
	return func(ctx huma.Context, next func(huma.Context)) {
		presented := ctx.Header(PlatformHeader)
		if presented == "" {
			if scheme, token, ok := strings.Cut(ctx.Header("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
				presented = strings.TrimSpace(token)
			}
		}
		got := sha256.Sum256([]byte(presented))
		var err *apperr.Error
		switch {
		case len(s.platformKey) == 0:
			err = apperr.Unauthorized("the platform API is disabled: no platform key is configured")
		case presented == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1:
			err = apperr.Unauthorized("a valid platform key is required")
		}
		if err != nil {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="callboard-platform"`)
			_ = huma.WriteErr(api, ctx, err.Status(), err.Message, err)
			return
		}
		next(ctx)
	}
}
