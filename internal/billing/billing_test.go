package billing_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/billing"
	"callboard/internal/store"
	"callboard/internal/storetest"
)

// recorder is a Publisher that keeps what it is told.
type recorder struct {
	mu     sync.Mutex
	events []billing.Event
}

func (r *recorder) BillingEvent(_ context.Context, e billing.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) kinds(userID int64) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.UserID == userID {
			out = append(out, e.Kind)
		}
	}
	return out
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// newServer is the real app over db with its clock at start and a
// recording Publisher.
func newServer(t *testing.T, db *store.DB, start time.Time) (*apitest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	s := apitest.New(t, db, func(c *app.Config) { c.Billing.Publisher = rec })
	setClock(s, start)
	return s, rec
}

func setClock(s *apitest.Server, at time.Time) { s.Clock.Advance(at.Sub(s.Clock.Now())) }

// onPlan signs a user up at the server's time and puts them on plan
// (support's SetPlan: no invoice).
func onPlan(t *testing.T, s *apitest.Server, plan string) apitest.Session {
	t.Helper()
	me := s.SignUp(t)
	if _, err := s.Billing.SetPlan(context.Background(), me.UserID, plan); err != nil {
		t.Fatal(err)
	}
	return me
}

func invoices(t *testing.T, s *apitest.Server, userID int64) []billing.Invoice {
	t.Helper()
	page, err := s.Billing.Invoices(context.Background(), userID, 100, 0)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(page.Invoices) // oldest first
	return page.Invoices
}

func amounts(inv billing.Invoice) []int64 {
	var out []int64
	for _, l := range inv.Lines {
		out = append(out, l.Amount.Amount)
	}
	return out
}

func subscription(t *testing.T, s *apitest.Server, userID int64) billing.SubscriptionPage {
	t.Helper()
	p, err := s.Billing.Subscription(context.Background(), userID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tick(t *testing.T, s *apitest.Server) {
	t.Helper()
	if err := s.Billing.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Proration through the API, with the worked numbers of TestProrate: the
// period is 1 Mar – 1 Apr 2026 (31 days), Starter 1900, Pro 4900.
func TestUpgradeProratesToTheDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tc := range []struct {
			name          string
			at            time.Time
			credit, total int64
			charge        int64
		}{
			{"mid-month 16 Mar: credit 981, charge 2529, total 1548", date(2026, 3, 16).Add(10 * time.Hour), 981, 1548, 2529},
			{"last day 31 Mar: credit 61, charge 158, total 97", date(2026, 3, 31).Add(22 * time.Hour), 61, 97, 158},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s, rec := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
				me := onPlan(t, s, "starter")
				setClock(s, tc.at)
				login := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}})
				var sess struct{ Access string }
				login.Decode(t, &sess)

				res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/subscription/change/preview/?plan=pro", Token: sess.Access})
				var preview billing.ChangePreview
				res.Decode(t, &preview)
				if res.Status != 200 || preview.Comparison != "upgrade" || preview.Total.Amount != tc.total || preview.Total.Currency != "USD" ||
					!slices.Equal(amounts(billing.Invoice{Lines: preview.Lines}), []int64{-tc.credit, tc.charge}) {
					t.Fatalf("preview: %d %s", res.Status, res.Body)
				}
				if n := len(invoices(t, s, me.UserID)); n != 0 {
					t.Fatalf("a preview issued %d invoices", n)
				}

				res = s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/subscription/change/", Token: sess.Access, Body: map[string]string{"plan": "pro"}})
				var out billing.ChangeResult
				res.Decode(t, &out)
				if res.Status != 200 || out.Effective != "now" || out.Invoice == nil || out.Invoice.Total.Amount != tc.total ||
					out.Subscription.Plan.Code != "pro" || !out.Subscription.CurrentPeriodEnd.Equal(date(2026, 4, 1)) {
					t.Fatalf("change: %d %s", res.Status, res.Body)
				}
				invs := invoices(t, s, me.UserID)
				if len(invs) != 1 || invs[0].Kind != "change" || invs[0].Status != "open" || !slices.Equal(amounts(invs[0]), []int64{-tc.credit, tc.charge}) {
					t.Fatalf("invoices: %+v", invs)
				}
				if k := rec.kinds(me.UserID); !slices.Contains(k, "plan.changed") || !slices.Contains(k, "invoice.issued") {
					t.Fatalf("events: %v", k)
				}
			})
		}
	})
}

// Downgrade then resume: Pro → Starter is scheduled for 1 Apr with no
// invoice; resume drops it, so 1 Apr bills Pro (4900). Without the
// resume, 1 Apr bills Starter (1900).
func TestDowngradeThenResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		resumed, kept := onPlan(t, s, "pro"), onPlan(t, s, "pro")
		setClock(s, date(2026, 3, 10))
		for _, me := range []apitest.Session{resumed, kept} {
			r, err := s.Billing.ChangePlan(ctx, me.UserID, "starter")
			if err != nil || r.Effective != "period_end" || r.Invoice != nil || r.Subscription.ScheduledChange == nil ||
				r.Subscription.ScheduledChange.Plan.Code != "starter" || r.Subscription.Plan.Code != "pro" {
				t.Fatalf("downgrade: %+v %v", r, err)
			}
		}
		if _, err := s.Billing.Resume(ctx, resumed.UserID); err != nil {
			t.Fatal(err)
		}
		if p := subscription(t, s, resumed.UserID); p.Current.ScheduledChange != nil || p.Actions.Resume {
			t.Fatalf("resume left %+v", p.Current)
		}
		setClock(s, date(2026, 4, 1).Add(time.Minute))
		tick(t, s)
		for _, tc := range []struct {
			me   apitest.Session
			plan string
			want int64
		}{{resumed, "pro", 4900}, {kept, "starter", 1900}} {
			invs := invoices(t, s, tc.me.UserID)
			if len(invs) != 1 || invs[0].Plan != tc.plan || invs[0].Total.Amount != tc.want || !invs[0].PeriodStart.Equal(date(2026, 4, 1)) {
				t.Fatalf("%s: invoices %+v", tc.plan, invs)
			}
			if p := subscription(t, s, tc.me.UserID); p.Current.Plan.Code != tc.plan || !p.Current.CurrentPeriodEnd.Equal(date(2026, 5, 1)) {
				t.Fatalf("%s: now %+v", tc.plan, p.Current)
			}
		}
	})
}

// Cancel then resume: the resumed Pro subscription renews on 1 Apr (4900);
// the canceled one ends: no invoice, the free plan, status canceled.
func TestCancelThenResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, rec := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		resumed, canceled := onPlan(t, s, "pro"), onPlan(t, s, "pro")
		setClock(s, date(2026, 3, 20))
		for _, me := range []apitest.Session{resumed, canceled} {
			c, err := s.Billing.Cancel(ctx, me.UserID)
			if err != nil || !c.CancelAtPeriodEnd || c.CanceledAt == nil || c.Plan.Code != "pro" {
				t.Fatalf("cancel: %+v %v", c, err)
			}
		}
		if _, err := s.Billing.Cancel(ctx, canceled.UserID); err == nil {
			t.Fatal("canceled twice")
		}
		if c, err := s.Billing.Resume(ctx, resumed.UserID); err != nil || c.CancelAtPeriodEnd {
			t.Fatalf("resume: %+v %v", c, err)
		}
		setClock(s, date(2026, 4, 1).Add(time.Hour))
		tick(t, s)
		if invs := invoices(t, s, resumed.UserID); len(invs) != 1 || invs[0].Total.Amount != 4900 {
			t.Fatalf("resumed: %+v", invs)
		}
		if invs := invoices(t, s, canceled.UserID); len(invs) != 0 {
			t.Fatalf("canceled subscription was invoiced: %+v", invs)
		}
		p := subscription(t, s, canceled.UserID)
		if p.Current.Plan.Code != "free" || p.Current.Status != "canceled" || p.Actions.Cancel || !p.Actions.Upgrade {
			t.Fatalf("after cancellation: %+v %+v", p.Current, p.Actions)
		}
		if k := rec.kinds(canceled.UserID); !slices.Equal(k, []string{"plan.changed", "subscription.canceled", "subscription.canceled"}) {
			t.Fatalf("events: %v", k)
		}
	})
}

// Three missed periods: Pro from 1 Mar, the server down until 2 Jun. One
// tick issues the invoices of Apr, May and Jun, each once; a second tick
// and a second instance issue nothing more.
func TestRollOverCatchesUpOncePerPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "pro")
		setClock(s, date(2026, 6, 2))
		second := billing.NewService(billing.Config{DB: db, Now: s.Clock.Now,
			Customers: billing.CustomersFunc(func(context.Context, int64) (billing.Customer, error) { return billing.Customer{Name: "x"}, nil })})
		var wg sync.WaitGroup
		for _, svc := range []*billing.Service{s.Billing, second, s.Billing} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := svc.RollOver(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		tick(t, s)
		invs := invoices(t, s, me.UserID)
		var starts []time.Time
		for _, inv := range invs {
			starts = append(starts, inv.PeriodStart)
			if inv.Total.Amount != 4900 || inv.Kind != "cycle" {
				t.Fatalf("invoice %+v", inv)
			}
		}
		if !slices.EqualFunc(starts, []time.Time{date(2026, 4, 1), date(2026, 5, 1), date(2026, 6, 1)}, time.Time.Equal) {
			t.Fatalf("periods invoiced: %v", starts)
		}
		// The two older invoices are overdue (14 days): past_due until paid.
		if p := subscription(t, s, me.UserID); p.Current.Status != "past_due" || !p.Current.CurrentPeriodEnd.Equal(date(2026, 7, 1)) {
			t.Fatalf("after catching up: %+v", p.Current)
		}
		for _, inv := range invs[:2] {
			if _, err := s.Billing.MarkPaid(context.Background(), inv.ID, "operator", ""); err != nil {
				t.Fatal(err)
			}
		}
		if p := subscription(t, s, me.UserID); p.Current.Status != "active" {
			t.Fatalf("paid up but %s", p.Current.Status)
		}
	})
}

// Two instances (two connections pools on one database) rolling over at
// once bill each period once.
func TestRollOverTwoInstances(t *testing.T) {
	open := map[string]func(t *testing.T) (string, string){
		"sqlite":   func(t *testing.T) (string, string) { return "", t.TempDir() },
		"postgres": func(t *testing.T) (string, string) { return storetest.PostgresSchemaURL(t), "" },
	}
	for name, where := range open {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			url, dir := where(t)
			var dbs []*store.DB
			for range 2 {
				db, err := store.Open(ctx, url, dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				dbs = append(dbs, db)
			}
			now := date(2026, 3, 1)
			clock := func() time.Time { return now }
			var users []int64
			for i := range 20 {
				var id int64
				if err := dbs[0].Write().QueryRowContext(ctx, `INSERT INTO users (email, password_hash, first_name, last_name, created_at, updated_at)
					VALUES ($1, 'x', 'A', 'B', 0, 0) RETURNING id`, fmt.Sprintf("u%d@example.com", i)).Scan(&id); err != nil {
					t.Fatal(err)
				}
				users = append(users, id)
			}
			cust := billing.CustomersFunc(func(context.Context, int64) (billing.Customer, error) { return billing.Customer{Name: "A B"}, nil })
			var svcs []*billing.Service
			for _, db := range dbs {
				svcs = append(svcs, billing.NewService(billing.Config{DB: db, Customers: cust, Now: clock}))
			}
			for _, id := range users {
				if _, err := svcs[0].SetPlan(ctx, id, "starter"); err != nil {
					t.Fatal(err)
				}
			}
			now = date(2026, 5, 15) // two periods ended
			var wg sync.WaitGroup
			for _, svc := range svcs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := svc.RollOver(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			var n, distinct int
			if err := dbs[1].Read().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT user_id || ':' || period_start) FROM invoices`).Scan(&n, &distinct); err != nil {
				t.Fatal(err)
			}
			if n != 40 || distinct != 40 {
				t.Fatalf("%d invoices (%d distinct periods), want 40", n, distinct)
			}
		})
	}
}

// Two upgrades at once for one user issue one invoice.
func TestSimultaneousUpgradesInvoiceOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "starter")
		setClock(s, date(2026, 3, 16).Add(time.Hour))
		login := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}})
		var sess struct{ Access string }
		login.Decode(t, &sess)
		statuses := make([]int, 4)
		var wg sync.WaitGroup
		for i := range statuses {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/subscription/change/", Token: sess.Access,
					Body: map[string]string{"plan": "pro"}}).Status
			}()
		}
		wg.Wait()
		slices.Sort(statuses)
		if !slices.Equal(statuses, []int{200, 409, 409, 409}) {
			t.Fatalf("statuses %v", statuses)
		}
		if invs := invoices(t, s, me.UserID); len(invs) != 1 || invs[0].Total.Amount != 1548 {
			t.Fatalf("invoices %+v", invs)
		}
	})
}

// The API's refusals: another user's invoice is 404, an unknown or
// archived plan is 422 naming plan, and nothing changes.
func TestSubscriptionAPIRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, time.Now().UTC())
		owner, other := s.SignUp(t), s.SignUp(t)
		if _, err := s.Billing.CreatePlan(context.Background(), billing.NewPlan{Code: "legacy", Name: "Legacy", Price: billing.Amount{Amount: 9900, Currency: "USD"},
			Interval: "month", IncludedMinutes: 100}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Billing.ArchivePlan(context.Background(), "legacy"); err != nil {
			t.Fatal(err)
		}
		res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/dashboard/user/subscription/change/", Token: owner.Access, Body: map[string]string{"plan": "pro"}})
		var out billing.ChangeResult
		res.Decode(t, &out)
		if res.Status != 200 || out.Invoice == nil {
			t.Fatalf("upgrade: %d %s", res.Status, res.Body)
		}
		pdf := fmt.Sprintf("/api/dashboard/user/subscription/invoices/%d/pdf/", out.Invoice.ID)
		for _, tc := range []struct {
			name     string
			method   string
			path     string
			token    string
			body     any
			status   int
			location string
		}{
			{"another user's invoice", "GET", pdf, other.Access, nil, 404, ""},
			{"no such invoice", "GET", "/api/dashboard/user/subscription/invoices/999999/pdf/", owner.Access, nil, 404, ""},
			{"no token", "GET", pdf, "", nil, 401, ""},
			{"unknown plan", "POST", "/api/dashboard/user/subscription/change/", other.Access, map[string]string{"plan": "platinum"}, 422, "body.plan"},
			{"archived plan", "POST", "/api/dashboard/user/subscription/change/", other.Access, map[string]string{"plan": "legacy"}, 422, "body.plan"},
			{"empty plan", "POST", "/api/dashboard/user/subscription/change/", other.Access, map[string]string{"plan": ""}, 422, "body.plan"},
			{"unknown field", "POST", "/api/dashboard/user/subscription/change/", other.Access, map[string]string{"plan": "pro", "price": "0"}, 422, ""},
			{"preview of an unknown plan", "GET", "/api/dashboard/user/subscription/change/preview/?plan=platinum", other.Access, nil, 422, "query.plan"},
			{"preview of an archived plan", "GET", "/api/dashboard/user/subscription/change/preview/?plan=legacy", other.Access, nil, 422, "query.plan"},
			{"the current plan", "POST", "/api/dashboard/user/subscription/change/", other.Access, map[string]string{"plan": "free"}, 409, ""},
			{"cancel the free plan", "POST", "/api/dashboard/user/subscription/cancel/", other.Access, nil, 409, ""},
			{"resume nothing", "POST", "/api/dashboard/user/subscription/resume/", other.Access, nil, 409, ""},
			{"history limit too big", "GET", "/api/dashboard/user/subscription/?history_limit=101", other.Access, nil, 422, "query.history_limit"},
			{"platform paid without key", "POST", fmt.Sprintf("/api/platform/invoices/%d/paid/", out.Invoice.ID), "", nil, 401, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := s.Do(t, apitest.Request{Method: tc.method, Path: tc.path, Token: tc.token, Body: tc.body})
				if res.Status != tc.status {
					t.Fatalf("%d %s", res.Status, res.Body)
				}
				if tc.location != "" && !slices.Contains(apitest.ErrorLocations(t, res), tc.location) {
					t.Fatalf("problem does not name %s: %s", tc.location, res.Body)
				}
			})
		}
		if p := subscription(t, s, other.UserID); p.Current.Plan.Code != "free" || len(p.BillingHistory.Invoices) != 0 {
			t.Fatalf("refused requests changed %+v", p.Current)
		}
		// The platform marks the invoice paid, once.
		path := fmt.Sprintf("/api/platform/invoices/%d/paid/", out.Invoice.ID)
		key := map[string]string{"X-Platform-Key": apitest.PlatformKey}
		if r := s.Do(t, apitest.Request{Method: "POST", Path: path, Header: key, Body: map[string]string{"reference": "bank-123"}}); r.Status != 200 || !strings.Contains(string(r.Body), `"status":"paid"`) {
			t.Fatalf("paid: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, apitest.Request{Method: "POST", Path: path, Header: key}); r.Status != 409 {
			t.Fatalf("paid twice: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/invoices/999999/paid/", Header: key}); r.Status != 404 {
			t.Fatalf("unknown invoice: %d %s", r.Status, r.Body)
		}
	})
}

// The subscription page: plans compared, usage, actions, paged history.
func TestSubscriptionPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "starter")
		ctx := context.Background()
		setClock(s, date(2026, 3, 2))
		if _, err := s.Billing.ChangePlan(ctx, me.UserID, "pro"); err != nil {
			t.Fatal(err)
		}
		setClock(s, date(2026, 3, 3))
		if _, err := s.Billing.ChangePlan(ctx, me.UserID, "business"); err != nil {
			t.Fatal(err)
		}
		login := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}})
		var sess struct{ Access string }
		login.Decode(t, &sess)
		res := s.Do(t, apitest.Request{Method: "GET", Path: "/api/dashboard/user/subscription/?history_limit=1", Token: sess.Access})
		var p billing.SubscriptionPage
		res.Decode(t, &p)
		var cmp []string
		for _, o := range p.AvailablePlans {
			cmp = append(cmp, o.Code+":"+o.Comparison)
		}
		if res.Status != 200 || p.Current.Plan.Code != "business" || !slices.Equal(cmp, []string{"free:downgrade", "starter:downgrade", "pro:downgrade", "business:current"}) ||
			p.Actions.Upgrade || !p.Actions.Downgrade || !p.Actions.Cancel || p.Actions.Resume || p.Current.RemainingDays != 29 {
			t.Fatalf("page: %d %s", res.Status, res.Body)
		}
		if len(p.BillingHistory.Invoices) != 1 || p.BillingHistory.NextCursor == nil || len(p.BillingHistory.Invoices[0].Lines) != 2 {
			t.Fatalf("history page 1: %s", res.Body)
		}
		res = s.Do(t, apitest.Request{Method: "GET", Path: fmt.Sprintf("/api/dashboard/user/subscription/?history_limit=1&history_before=%d", *p.BillingHistory.NextCursor), Token: sess.Access})
		var p2 billing.SubscriptionPage
		res.Decode(t, &p2)
		if len(p2.BillingHistory.Invoices) != 1 || p2.BillingHistory.NextCursor != nil || p2.BillingHistory.Invoices[0].ID >= p.BillingHistory.Invoices[0].ID {
			t.Fatalf("history page 2: %s", res.Body)
		}
	})
}

func ingest(t *testing.T, s *apitest.Server, calls ...map[string]any) {
	t.Helper()
	res := s.Do(t, apitest.Request{Method: "POST", Path: "/api/platform/calls/", Header: map[string]string{"X-Platform-Key": apitest.PlatformKey},
		Body: map[string]any{"calls": calls}})
	if res.Status != 200 || !strings.Contains(string(res.Body), `"failed":0`) {
		t.Fatalf("ingest: %d %s", res.Status, res.Body)
	}
}

func call(userID int64, id, status string, started time.Time, seconds int) map[string]any {
	return map[string]any{"external_id": id, "user_id": userID, "direction": "outbound", "from_number": "+924235761000",
		"to_number": "+923001234567", "status": status, "started_at": started.Format(time.RFC3339), "duration_seconds": seconds}
}

// Metering: finished calls' seconds go to the open period once; a call
// reported late into a closed period is billed in the next invoice; usage
// alerts go out once per period at 80% and 100%.
func TestMeteringAndAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, rec := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "starter") // 500 minutes included, 5 cents a minute over
		t0 := date(2026, 3, 5)
		ingest(t, s, call(me.UserID, "a", "in-progress", t0, 0), call(me.UserID, "b", "completed", t0, 125))
		if u := subscription(t, s, me.UserID).Usage; u.MinutesUsed != 3 || u.Calls != 1 {
			t.Fatalf("usage after one finished call of 125 s: %+v", u)
		}
		// "a" finishes at 399 min 35 s; resending "b" changes nothing.
		ingest(t, s, call(me.UserID, "a", "completed", t0, 399*60+35), call(me.UserID, "b", "completed", t0, 125))
		u := subscription(t, s, me.UserID).Usage
		if u.MinutesUsed != 402 || u.Calls != 2 || u.PercentUsed != 80.4 {
			t.Fatalf("usage: %+v", u)
		}
		ingest(t, s, call(me.UserID, "c", "completed", t0, 100*60)) // 502 minutes: 2 over
		u = subscription(t, s, me.UserID).Usage
		if u.OverageMinutes != 2 || u.OverageCost.Amount != 10 || u.PercentUsed != 100.4 {
			t.Fatalf("overage: %+v", u)
		}
		ingest(t, s, call(me.UserID, "d", "completed", t0, 60))
		if k := rec.kinds(me.UserID); !slices.Equal(k, []string{"plan.changed", "usage.80", "usage.100"}) {
			t.Fatalf("events: %v", k)
		}
		// 1 Apr: the invoice has April's Starter and March's 3 minutes over.
		setClock(s, date(2026, 4, 1).Add(time.Hour))
		tick(t, s)
		invs := invoices(t, s, me.UserID)
		if len(invs) != 1 || !slices.Equal(amounts(invs[0]), []int64{1900, 15}) || invs[0].Lines[1].Quantity != 3 {
			t.Fatalf("March's invoice: %+v", invs)
		}
		// A call from March reported now lands in April's period, once.
		late := call(me.UserID, "late", "completed", date(2026, 3, 30), 30*60)
		ingest(t, s, late)
		ingest(t, s, late)
		if u := subscription(t, s, me.UserID).Usage; u.MinutesUsed != 30 || u.Calls != 1 {
			t.Fatalf("late call: %+v", u)
		}
	})
}

// The invoice PDF opens in a PDF reader (poppler's pdftotext) with its
// totals, line items and the customer's Urdu name as text.
func TestInvoicePDF(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext is missing (apt-get install poppler-utils)")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "starter")
		res := s.Do(t, apitest.Request{Method: "PATCH", Path: "/api/dashboard/user/profile/", Token: me.Access,
			Header: map[string]string{"Content-Type": "application/merge-patch+json"},
			Body:   map[string]string{"first_name": "عائشہ", "last_name": "خان"}})
		if res.Status != 200 {
			t.Fatalf("profile: %d %s", res.Status, res.Body)
		}
		setClock(s, date(2026, 3, 16).Add(10*time.Hour))
		out, err := s.Billing.ChangePlan(context.Background(), me.UserID, "pro")
		if err != nil {
			t.Fatal(err)
		}
		login := s.Do(t, apitest.Request{Method: "POST", Path: "/api/auth/login/", Body: map[string]string{"email": me.Email, "password": apitest.StrongPassword}})
		var sess struct{ Access string }
		login.Decode(t, &sess)
		res = s.Do(t, apitest.Request{Method: "GET", Path: out.Invoice.PDFURL, Token: sess.Access})
		if res.Status != 200 || res.Header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(res.Body, []byte("%PDF-")) {
			t.Fatalf("pdf: %d %s", res.Status, res.Header)
		}
		cmd := exec.Command("pdftotext", "-", "-")
		cmd.Stdin = bytes.NewReader(res.Body)
		text, err := cmd.Output()
		if err != nil {
			t.Fatalf("pdftotext cannot read the invoice: %v", err)
		}
		// pdftotext wraps right-to-left runs in embedding marks.
		plain := strings.NewReplacer("\u202b", "", "\u202c", "", "\u200f", "").Replace(string(text))
		for _, want := range []string{"Invoice " + out.Invoice.Number, "Unused time on Starter from 16 Mar 2026 (16 of 31 days)",
			"Remaining time on Pro from 16 Mar 2026 (16 of 31 days)", "-USD 9.81", "USD 25.29", "Total", "USD 15.48", "عائشہ خان", "Due"} {
			if !strings.Contains(plain, want) {
				t.Errorf("the PDF's text lacks %q:\n%s", want, plain)
			}
		}
	})
}

// Account deletion keeps invoices anonymised; the export lists them.
func TestEraseAndExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "starter")
		ctx := context.Background()
		if _, err := s.Billing.ChangePlan(ctx, me.UserID, "pro"); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := s.Billing.ExportInvoices(ctx, me.UserID, &buf); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), `[{"id":`) || !strings.Contains(buf.String(), `"lines":[{`) || !strings.HasSuffix(buf.String(), "]") {
			t.Fatalf("export: %s", buf.String())
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return s.Billing.ErasePersonalData(ctx, tx, me.UserID) }); err != nil {
			t.Fatal(err)
		}
		invs, err := s.Billing.AllInvoices(ctx, billing.InvoiceFilter{UserID: me.UserID})
		if err != nil || len(invs) != 1 || invs[0].Customer != (billing.Customer{}) {
			t.Fatalf("after erasure: %+v %v", invs, err)
		}
	})
}

// The overview's cards: plan, status and days left; the last invoice, the
// open balance and what the next invoice will be.
func TestOverviewCards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "starter")
		setClock(s, date(2026, 3, 16).Add(10*time.Hour))
		out, err := s.Billing.ChangePlan(ctx, me.UserID, "pro")
		if err != nil {
			t.Fatal(err)
		}
		o, err := s.Dashboard.Overview(ctx, me.UserID, 30)
		if err != nil {
			t.Fatal(err)
		}
		sub, bill := o.Subscription, o.BillingSummary
		if sub == nil || sub.Plan != "Pro" || sub.Status != "active" || sub.RemainingDays != 16 || !sub.CurrentPeriodEnd.Equal(date(2026, 4, 1)) {
			t.Fatalf("subscription card: %+v", sub)
		}
		if bill == nil || bill.LastInvoice == nil || *bill.LastInvoice != out.Invoice.Number || *bill.LastInvoiceAmount != 1548 ||
			bill.OpenBalance != 1548 || *bill.NextBillingAmount != 4900 || !bill.NextBillingDate.Equal(date(2026, 4, 1)) ||
			bill.Currency != "USD" || bill.IncludedMinutes != 2000 {
			t.Fatalf("billing card: %+v", bill)
		}
		if _, err := s.Billing.Cancel(ctx, me.UserID); err != nil {
			t.Fatal(err)
		}
		if bill, err := s.Billing.BillingSummary(ctx, me.UserID); err != nil || *bill.NextBillingAmount != 0 {
			t.Fatalf("after cancel: %+v %v", bill, err)
		}
	})
}

// A period that ended before Run got to it is closed on the next read, so
// the page never shows a period that is over.
func TestReadClosesAnEndedPeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newServer(t, db, date(2026, 3, 1).Add(9*time.Hour))
		me := onPlan(t, s, "pro")
		setClock(s, date(2026, 4, 3))
		p := subscription(t, s, me.UserID)
		if !p.Current.CurrentPeriodStart.Equal(date(2026, 4, 1)) || len(p.BillingHistory.Invoices) != 1 || p.BillingHistory.Invoices[0].Total.Amount != 4900 {
			t.Fatalf("after the period ended: %+v, %d invoices", p.Current, len(p.BillingHistory.Invoices))
		}
		tick(t, s) // and Run later finds nothing left to do
		if n := len(invoices(t, s, me.UserID)); n != 1 {
			t.Fatalf("%d invoices", n)
		}
	})
}
