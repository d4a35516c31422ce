package dashboard_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/calls"
	"callboard/internal/dashboard"
	"callboard/internal/stats"
)

// fakes answers the overview's required interfaces for one user, and
// records what it was asked.
type fakes struct {
	loc       *time.Location
	gotLoc    *time.Location
	gotDays   int
	gotRecent int
}

func (f *fakes) Profile(_ context.Context, userID int64) (account.User, error) {
	if userID != 7 {
		return account.User{}, apperr.NotFound("user")
	}
	return account.User{ID: 7, Email: "seven@example.com"}, nil
}

func (f *fakes) Location(context.Context, int64) (*time.Location, error) { return f.loc, nil }

func (f *fakes) Numbers(_ context.Context, _ int64, loc *time.Location, days int) (stats.Numbers, error) {
	f.gotLoc, f.gotDays = loc, days
	return stats.Numbers{Timezone: loc.String()}, nil
}

func (f *fakes) Recent(_ context.Context, _ int64, n int) ([]calls.CallView, error) {
	f.gotRecent = n
	return []calls.CallView{}, nil
}

func TestOverviewComposes(t *testing.T) {
	karachi, err := time.LoadLocation("Asia/Karachi")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakes{loc: karachi}
	base := dashboard.Config{Profiles: f, Zones: f, Numbers: f, Recent: f}
	ctx := context.Background()

	t.Run("no card providers: cards are null", func(t *testing.T) {
		o, err := dashboard.NewService(base).Overview(ctx, 7, 30)
		if err != nil {
			t.Fatal(err)
		}
		if o.User.Email != "seven@example.com" || o.Subscription != nil || o.BillingSummary != nil || o.UnreadNotifications != nil {
			t.Fatalf("overview: %+v", o)
		}
		if f.gotLoc != karachi || f.gotDays != 30 || f.gotRecent != 5 || o.Timezone != "Asia/Karachi" {
			t.Fatalf("numbers asked in %v for %d days, %d recent calls", f.gotLoc, f.gotDays, f.gotRecent)
		}
	})

	t.Run("providers plugged in fill their cards", func(t *testing.T) {
		end := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
		cfg := base
		cfg.Subscriptions = dashboard.SubscriptionsFunc(func(context.Context, int64) (*dashboard.SubscriptionSummary, error) {
			return &dashboard.SubscriptionSummary{Plan: "pro", Status: "active", RemainingDays: 29, CurrentPeriodEnd: end}, nil
		})
		cfg.Billing = dashboard.BillingFunc(func(context.Context, int64) (*dashboard.BillingSummary, error) {
			return &dashboard.BillingSummary{Currency: "PKR"}, nil
		})
		cfg.Notifications = dashboard.NotificationsFunc(func(context.Context, int64) (int, error) { return 3, nil })
		o, err := dashboard.NewService(cfg).Overview(ctx, 7, 7)
		if err != nil {
			t.Fatal(err)
		}
		if o.Subscription == nil || o.Subscription.Plan != "pro" || o.BillingSummary == nil || o.BillingSummary.Currency != "PKR" ||
			o.UnreadNotifications == nil || *o.UnreadNotifications != 3 {
			t.Fatalf("cards: %+v %+v %v", o.Subscription, o.BillingSummary, o.UnreadNotifications)
		}
	})

	t.Run("a provider without a card leaves it null", func(t *testing.T) {
		cfg := base
		cfg.Subscriptions = dashboard.SubscriptionsFunc(func(context.Context, int64) (*dashboard.SubscriptionSummary, error) { return nil, nil })
		o, err := dashboard.NewService(cfg).Overview(ctx, 7, 90)
		if err != nil || o.Subscription != nil {
			t.Fatalf("overview: %+v, %v", o.Subscription, err)
		}
	})

	t.Run("a failing provider fails the overview", func(t *testing.T) {
		boom := errors.New("billing down")
		cfg := base
		cfg.Billing = dashboard.BillingFunc(func(context.Context, int64) (*dashboard.BillingSummary, error) { return nil, boom })
		if _, err := dashboard.NewService(cfg).Overview(ctx, 7, 30); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	})

	t.Run("bad input and missing users", func(t *testing.T) {
		svc := dashboard.NewService(base)
		for _, days := range []int{0, 1, 31, -7} {
			_, err := svc.Overview(ctx, 7, days)
			if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Location != "days" {
				t.Fatalf("days=%d: %v", days, err)
			}
		}
		_, err := svc.Overview(ctx, 8, 30)
		if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindNotFound {
			t.Fatalf("gone user: %v", err)
		}
	})
}
