package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"callboard/internal/account"
	"callboard/internal/apperr"
	"callboard/internal/auth"
	"callboard/internal/billing"
	"callboard/internal/calls"
	"callboard/internal/notify"
)

// Email is the demo account's sign-in.
const Email = "demo@example.com"

// Services are what seeding goes through: the same rules as the API.
type Services struct {
	Auth    *auth.Service
	Account *account.Service
	Calls   *calls.Service
	Billing *billing.Service // optional: the demo's Pro subscription and invoices
	Notify  *notify.Service  // optional: without it the demo has no notifications
	Now     func() time.Time
}

// Login is the demo account's credentials.
type Login struct {
	Email    string
	Password string
	Created  bool // false when the account existed and only got a new password
}

// Seed creates the demo account, a business in Lahore with six AI agents and
// 90 days of calls, or, when it exists, gives it a new password (ending its
// sessions). The password is random: a demo on a reachable server must not
// have a guessable login.
func Seed(ctx context.Context, s Services) (Login, error) {
	if s.Now == nil {
		s.Now = time.Now
	}
	login := Login{Email: Email, Password: randomPassphrase()}
	client := auth.Client{IP: "cli", UserAgent: "callboard demo"}
	id, err := s.Auth.UserIDByEmail(ctx, Email)
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindNotFound {
		u, err := s.Auth.CreateUser(ctx, auth.NewUser{Email: Email, Password: login.Password,
			FirstName: "Ayesha", LastName: "Khan", Phone: "+92 300 1234567"}, client)
		if err != nil {
			return Login{}, fmt.Errorf("create demo user: %w", err)
		}
		login.Created = true
		return login, fill(ctx, s, u.ID)
	}
	if err != nil {
		return Login{}, err
	}
	if err := s.Auth.ResetPassword(ctx, id, "password", login.Password, client); err != nil {
		return Login{}, fmt.Errorf("reset demo password: %w", err)
	}
	return login, nil
}

// fill gives the new demo account its preferences, settings and calls.
func fill(ctx context.Context, s Services, userID int64) error {
	if _, err := s.Account.UpdatePreferences(ctx, userID, account.PreferencesPatch{
		Timezone: account.Some("Asia/Karachi"),
	}); err != nil {
		return fmt.Errorf("demo preferences: %w", err)
	}
	if _, err := s.Account.UpdateSettings(ctx, userID, account.SettingsPatch{
		Privacy: account.Some(account.PrivacySettingsPatch{RecordingConsent: account.Some(true)}),
	}); err != nil {
		return fmt.Errorf("demo settings: %w", err)
	}
	now := s.Now()
	g := NewGenerator(2026, fmt.Sprintf("demo-%d", userID))
	var (
		batch    []calls.IngestCall
		finished []usedCall
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		sum, err := s.Calls.Ingest(ctx, batch)
		if err != nil {
			return fmt.Errorf("demo calls: %w", err)
		}
		if sum.Failed > 0 {
			return errors.New("demo calls: the generator made calls ingest refuses")
		}
		batch = batch[:0]
		return nil
	}
	for day := now.AddDate(0, 0, -89); !day.After(now); day = day.AddDate(0, 0, 1) {
		made := g.Day(userID, len(Agents), day, 28, now)
		finished = appendFinished(finished, made)
		batch = append(batch, made...)
		if len(batch) >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if s.Billing != nil {
		if err := seedBilling(ctx, s.Billing, userID, now, finished); err != nil {
			return err
		}
	}
	return fillNotifications(ctx, s, userID)
}

// usedCall is a finished demo call: when it started and how long it took.
type usedCall struct {
	started time.Time
	seconds int64
}

func appendFinished(to []usedCall, day []calls.IngestCall) []usedCall {
	for _, c := range day {
		if !calls.Status(c.Status).Finished() || c.StartedAt == nil {
			continue
		}
		started, err := time.Parse(time.RFC3339, *c.StartedAt)
		if err != nil {
			continue
		}
		var seconds int64
		if c.DurationSeconds != nil {
			seconds = int64(*c.DurationSeconds)
		}
		to = append(to, usedCall{started, seconds})
	}
	return to
}

// demoPlan and demoPaidPeriods: the demo customer is on Pro, with this
// many months of paid invoices before the current one.
const (
	demoPlan        = "pro"
	demoPaidPeriods = 2
)

// seedBilling puts the demo account on Pro with paid invoices for the
// past months, its current period starting on the day that leaves its
// usage near (about 90% of) the plan's included minutes.
func seedBilling(ctx context.Context, b *billing.Service, userID int64, now time.Time, finished []usedCall) error {
	used := func(from, to time.Time) (seconds, n int64) {
		for _, c := range finished {
			if !c.started.Before(from) && c.started.Before(to) {
				seconds += c.seconds
				n++
			}
		}
		return seconds, n
	}
	plans, err := b.Plans(ctx, false)
	if err != nil {
		return err
	}
	included := int64(0)
	for _, p := range plans {
		if p.Code == demoPlan {
			included = p.IncludedMinutes
		}
	}
	today := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day(), 0, 0, 0, 0, time.UTC)
	start := today
	for back := 1; back < 28; back++ {
		earlier := today.AddDate(0, 0, -back)
		if seconds, _ := used(earlier, now); seconds/60 > included*9/10 {
			break
		}
		start = earlier
	}
	if err := b.SeedDemo(ctx, userID, demoPlan, start, demoPaidPeriods, used); err != nil {
		return fmt.Errorf("demo subscription: %w", err)
	}
	return nil
}

// demoUnread is how many of the demo's notifications stay unread.
const demoUnread = 6

// fillNotifications leaves the demo with a mix of read and unread
// notifications: ingest raised one per finished call; all but the newest
// few are marked read, and a welcome and a sign-in notice are added unread.
func fillNotifications(ctx context.Context, s Services, userID int64) error {
	if s.Notify == nil {
		return nil
	}
	newest, err := s.Notify.List(ctx, userID, true, 0, demoUnread-2)
	if err != nil {
		return fmt.Errorf("demo notifications: %w", err)
	}
	if len(newest.Results) > 0 {
		before := newest.Results[len(newest.Results)-1].ID
		for {
			page, err := s.Notify.List(ctx, userID, true, before, 100)
			if err != nil {
				return fmt.Errorf("demo notifications: %w", err)
			}
			if len(page.Results) == 0 {
				break
			}
			ids := make([]int64, len(page.Results))
			for i, n := range page.Results {
				ids[i] = n.ID
			}
			if _, err := s.Notify.MarkRead(ctx, userID, ids, false); err != nil {
				return fmt.Errorf("demo notifications: %w", err)
			}
		}
	}
	for _, e := range []notify.Event{
		{UserID: userID, Category: notify.CategorySystem, Kind: "welcome", Title: "Welcome to Callboard",
			Body: "Your agents' calls, statistics and invoices are all here. Settings lets you choose which notifications you get."},
		{UserID: userID, Category: notify.CategorySecurity, Kind: "signin.new", Title: "New sign-in",
			Body: "Your account was signed in on Chrome on Android from 39.32.0.1. If this was not you, change your password.",
			Data: map[string]string{"ip": "39.32.0.1"}},
	} {
		if err := s.Notify.Publish(ctx, e); err != nil {
			return fmt.Errorf("demo notifications: %w", err)
		}
	}
	return nil
}

// randomPassphrase makes a strong, typeable password: four words and a number.
func randomPassphrase() string {
	words := []string{"amber", "lantern", "orbit", "meadow", "quartz", "harbor", "saffron", "monsoon", "indus", "cedar",
		"falcon", "jasmine", "copper", "willow", "karakoram", "lotus", "ember", "glacier", "mango", "violet"}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s-%s-%s-%02d", words[int(b[0])%len(words)], words[int(b[1])%len(words)],
		words[int(b[2])%len(words)], words[int(b[3])%len(words)], int(b[4])%100)
}
