package stats

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/apperr"
	"callboard/internal/auth"
	"callboard/internal/calls"
)

// RecentCalls lists a user's latest calls, newest first, as the history
// shows them.
type RecentCalls interface {
	Recent(ctx context.Context, userID int64, n int) ([]calls.CallView, error)
}

// Users loads the signed-in user.
type Users interface {
	UserByID(ctx context.Context, id int64) (auth.User, error)
}

// SubscriptionSummary is the subscription card of the overview.
type SubscriptionSummary struct {
	Plan             string    `json:"plan"`
	Status           string    `json:"status"`
	RemainingDays    int       `json:"remaining_days"`
	CurrentPeriodEnd time.Time `json:"current_period_end"`
}

// BillingSummary is the billing card of the overview.
type BillingSummary struct {
	LastInvoice       *string    `json:"last_invoice"`
	NextBillingDate   *time.Time `json:"next_billing_date"`
	NextBillingAmount *int64     `json:"next_billing_amount"`
	Currency          string     `json:"currency"`
}

// Overview is the dashboard home.
type Overview struct {
	User                auth.User            `json:"user"`
	Subscription        *SubscriptionSummary `json:"subscription" doc:"Always null until subscriptions and billing are enabled on this server."`
	BillingSummary      *BillingSummary      `json:"billing_summary" doc:"Always null until subscriptions and billing are enabled on this server."`
	UnreadNotifications *int                 `json:"unread_notifications" doc:"Always null until notifications are enabled on this server."`
	RecentCalls         []calls.CallView     `json:"recent_calls" doc:"The latest 5 calls, newest first."`
	Numbers
}

type overviewInput struct {
	Days int `query:"days" default:"30" doc:"Days in the trend, ending today in your timezone: 7, 30 or 90."`
}

type overviewOutput struct {
	Body Overview
}

// Register adds GET /api/dashboard/user/ to api.
func Register(api huma.API, svc *Service, users Users, recent RecentCalls) {
	huma.Register(api, huma.Operation{
		OperationID: "dashboard-overview", Method: http.MethodGet, Path: "/api/dashboard/user/",
		Summary: "Dashboard overview", Tags: []string{"Dashboard"}, Security: auth.UserSecurity,
		Description: "Statistics come from per-day rollups in your timezone, so this costs the same however many calls you have.",
		Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, func(ctx context.Context, in *overviewInput) (*overviewOutput, error) {
		if !slices.Contains(TrendDays, in.Days) {
			return nil, apperr.Invalid("query.days", "must be 7, 30 or 90")
		}
		userID := auth.PrincipalFrom(ctx).UserID
		u, err := users.UserByID(ctx, userID)
		if err != nil {
			return nil, err
		}
		numbers, err := svc.Numbers(ctx, userID, in.Days)
		if err != nil {
			return nil, err
		}
		latest, err := recent.Recent(ctx, userID, 5)
		if err != nil {
			return nil, err
		}
		return &overviewOutput{Body: Overview{User: u, RecentCalls: latest, Numbers: numbers}}, nil
	})
}
