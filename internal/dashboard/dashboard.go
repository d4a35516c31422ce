// Package dashboard owns the overview, GET /api/dashboard/user/: it
// composes the signed-in user's profile (account), the call statistics
// (stats), the latest calls (calls) and, once those capabilities exist,
// the subscription and billing cards and the unread notification count,
// each through a small interface declared here. It owns no tables.
//
// # Plugging in a card
//
// The subscription, billing_summary and unread_notifications fields are
// null while their provider is nil. A billing package fills the first two
// by implementing Subscriptions and Billing, a notifications package the
// third by implementing Notifications, and internal/app sets them in this
// package's Config:
//
//	dashboard.NewService(dashboard.Config{
//		...,
//		Subscriptions: billingSvc, // SubscriptionSummary(ctx, userID) (*dashboard.SubscriptionSummary, error)
//		Billing:       billingSvc, // BillingSummary(ctx, userID) (*dashboard.BillingSummary, error)
//		Notifications: notifySvc,  // UnreadCount(ctx, userID) (int, error)
//	})
//
// A provider that prefers not to import this package is wired with the
// function adapters instead (SubscriptionsFunc, BillingFunc,
// NotificationsFunc), converting its own types in internal/app. A provider
// answering a nil card (no subscription yet) leaves the field null; an
// error fails the overview, so a provider should answer from its own
// tables in one cheap query.
package dashboard

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/calls"
	"callboard/internal/principal"
	"callboard/internal/stats"
)

// Profiles shows the signed-in user (account).
type Profiles interface {
	Profile(ctx context.Context, userID int64) (account.User, error)
}

// Zones tells the user's timezone, in which every date of the overview is
// counted (account).
type Zones interface {
	Location(ctx context.Context, userID int64) (*time.Location, error)
}

// Numbers computes the call statistics (stats).
type Numbers interface {
	Numbers(ctx context.Context, userID int64, loc *time.Location, trendDays int) (stats.Numbers, error)
}

// RecentCalls lists a user's latest calls, newest first, as the history
// shows them (calls).
type RecentCalls interface {
	Recent(ctx context.Context, userID int64, n int) ([]calls.CallView, error)
}

// Subscriptions tells a user's subscription card; nil when there is none.
type Subscriptions interface {
	SubscriptionSummary(ctx context.Context, userID int64) (*SubscriptionSummary, error)
}

// Billing tells a user's billing card; nil when there is none.
type Billing interface {
	BillingSummary(ctx context.Context, userID int64) (*BillingSummary, error)
}

// Notifications tells how many of a user's notifications are unread.
type Notifications interface {
	UnreadCount(ctx context.Context, userID int64) (int, error)
}

// SubscriptionsFunc adapts a function to Subscriptions.
type SubscriptionsFunc func(ctx context.Context, userID int64) (*SubscriptionSummary, error)

// SubscriptionSummary calls f.
func (f SubscriptionsFunc) SubscriptionSummary(ctx context.Context, userID int64) (*SubscriptionSummary, error) {
	return f(ctx, userID)
}

// BillingFunc adapts a function to Billing.
type BillingFunc func(ctx context.Context, userID int64) (*BillingSummary, error)

// BillingSummary calls f.
func (f BillingFunc) BillingSummary(ctx context.Context, userID int64) (*BillingSummary, error) {
	return f(ctx, userID)
}

// NotificationsFunc adapts a function to Notifications.
type NotificationsFunc func(ctx context.Context, userID int64) (int, error)

// UnreadCount calls f.
func (f NotificationsFunc) UnreadCount(ctx context.Context, userID int64) (int, error) {
	return f(ctx, userID)
}

// Config is what a Service is built from. Profiles, Zones, Numbers and
// Recent are required; the cards' providers are optional (null when nil).
type Config struct {
	Profiles      Profiles
	Zones         Zones
	Numbers       Numbers
	Recent        RecentCalls
	Subscriptions Subscriptions
	Billing       Billing
	Notifications Notifications
}

// Service composes the overview.
type Service struct {
	cfg Config
}

// NewService returns the overview's service.
func NewService(cfg Config) *Service { return &Service{cfg: cfg} }

// SubscriptionSummary is the subscription card of the overview.
type SubscriptionSummary struct {
	Plan              string    `json:"plan" doc:"The plan's name."`
	PlanCode          string    `json:"plan_code"`
	Status            string    `json:"status" enum:"trialing,active,past_due,canceled"`
	RemainingDays     int       `json:"remaining_days" doc:"Days left in the period; a day begun counts as a whole one."`
	CurrentPeriodEnd  time.Time `json:"current_period_end"`
	CancelAtPeriodEnd bool      `json:"cancel_at_period_end"`
}

// BillingSummary is the billing card of the overview.
type BillingSummary struct {
	LastInvoice       *string    `json:"last_invoice" doc:"Number of the newest invoice; null when there is none."`
	LastInvoiceAmount *int64     `json:"last_invoice_amount" doc:"Its total, in minor units of currency."`
	LastInvoiceStatus *string    `json:"last_invoice_status" enum:"open,paid,void"`
	LastInvoiceDate   *time.Time `json:"last_invoice_date"`
	NextBillingDate   *time.Time `json:"next_billing_date"`
	NextBillingAmount *int64     `json:"next_billing_amount" doc:"The next period's price plus this period's overage so far, in minor units of currency."`
	OpenBalance       int64      `json:"open_balance" doc:"Sum of unpaid invoices, in minor units of currency."`
	Currency          string     `json:"currency" doc:"ISO 4217 code of every amount here."`
	MinutesUsed       int64      `json:"minutes_used" doc:"This period's call minutes."`
	IncludedMinutes   int64      `json:"included_minutes"`
}

// Overview is the dashboard home.
type Overview struct {
	User                account.User         `json:"user"`
	Subscription        *SubscriptionSummary `json:"subscription" doc:"Null when this server does not bill."`
	BillingSummary      *BillingSummary      `json:"billing_summary" doc:"Null when this server does not bill."`
	UnreadNotifications *int                 `json:"unread_notifications" doc:"How many of your notifications are unread; null when notifications are not enabled on this server."`
	RecentCalls         []calls.CallView     `json:"recent_calls" doc:"The latest 5 calls, newest first."`
	stats.Numbers
}

// recentCount is how many calls the overview lists.
const recentCount = 5

// Overview composes userID's overview with a trend of trendDays days (one
// of stats.TrendDays). Errors: Invalid naming days for another length;
// NotFound when the user is gone; whatever a provider fails with.
func (s *Service) Overview(ctx context.Context, userID int64, trendDays int) (Overview, error) {
	if !slices.Contains(stats.TrendDays, trendDays) {
		return Overview{}, apperr.Invalid("days", "must be 7, 30 or 90")
	}
	u, err := s.cfg.Profiles.Profile(ctx, userID)
	if err != nil {
		return Overview{}, err
	}
	loc, err := s.cfg.Zones.Location(ctx, userID)
	if err != nil {
		return Overview{}, err
	}
	numbers, err := s.cfg.Numbers.Numbers(ctx, userID, loc, trendDays)
	if err != nil {
		return Overview{}, err
	}
	latest, err := s.cfg.Recent.Recent(ctx, userID, recentCount)
	if err != nil {
		return Overview{}, err
	}
	o := Overview{User: u, RecentCalls: latest, Numbers: numbers}
	if s.cfg.Subscriptions != nil {
		if o.Subscription, err = s.cfg.Subscriptions.SubscriptionSummary(ctx, userID); err != nil {
			return Overview{}, err
		}
	}
	if s.cfg.Billing != nil {
		if o.BillingSummary, err = s.cfg.Billing.BillingSummary(ctx, userID); err != nil {
			return Overview{}, err
		}
	}
	if s.cfg.Notifications != nil {
		n, err := s.cfg.Notifications.UnreadCount(ctx, userID)
		if err != nil {
			return Overview{}, err
		}
		o.UnreadNotifications = &n
	}
	return o, nil
}

type overviewInput struct {
	Days int `query:"days" default:"30" doc:"Days in the trend, ending today in your timezone: 7, 30 or 90."`
}

type overviewOutput struct {
	Body Overview
}

// Register adds GET /api/dashboard/user/ to api.
func (s *Service) Register(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "dashboard-overview", Method: http.MethodGet, Path: "/api/dashboard/user/",
		Summary: "Dashboard overview", Tags: []string{"Dashboard"}, Security: principal.UserSecurity,
		Description: "Statistics come from per-day rollups in your timezone, so this costs the same however many calls you have.",
		Errors:      []int{http.StatusUnauthorized, http.StatusUnprocessableEntity},
	}, s.getOverview)
}

func (s *Service) getOverview(ctx context.Context, in *overviewInput) (*overviewOutput, error) {
	o, err := s.Overview(ctx, principal.From(ctx).UserID, in.Days)
	if err != nil {
		return nil, apperr.Within("query.", err)
	}
	return &overviewOutput{Body: o}, nil
}
