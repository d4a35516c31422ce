package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"callboard/internal/apitest"
	"callboard/internal/app"
	"callboard/internal/calls"
	"callboard/internal/storetest"
)

// BenchmarkCallsChanged is what notifications add to an ingest request of
// 1,000 finished calls of one user (SQLite): the settings lookup and the
// notifications' inserts, in one transaction after the calls committed.
func BenchmarkCallsChanged(b *testing.B) {
	db := storetest.SQLite(b)
	s := apitest.New(b, db)
	me := s.SignUp(b)
	callsChangedBatches(b, s, me.UserID)
}

// BenchmarkCallsChangedWithMail is BenchmarkCallsChanged for a user with a
// verified address, a phone, and email and SMS on, the caps lifted: each
// batch also counts the user's recent messages and queues a digest email
// and SMS.
func BenchmarkCallsChangedWithMail(b *testing.B) {
	db := storetest.SQLite(b)
	s := apitest.New(b, db, func(c *app.Config) { c.Notify.EmailsPerHour, c.Notify.SMSPerHour = 1<<30, 1<<30 })
	me := s.SignUp(b)
	if _, err := db.Write().Exec(`UPDATE users SET is_verified = $1, phone = '+923001234567' WHERE id = $2`, true, me.UserID); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Write().Exec(`INSERT INTO user_settings (user_id, notify_sms, updated_at) VALUES ($1, $2, 1)`, me.UserID, true); err != nil {
		b.Fatal(err)
	}
	callsChangedBatches(b, s, me.UserID)
	var n int
	if err := db.Read().QueryRow(`SELECT COUNT(*) FROM mail_outbox WHERE user_id = $1`, me.UserID).Scan(&n); err != nil || n < 2*b.N {
		b.Fatalf("%d messages queued for %d batches: %v", n, b.N, err)
	}
}

// callsChangedBatches times CallsChanged with 1,000 finished calls of
// userID a batch, and reports the time of one batch.
func callsChangedBatches(b *testing.B, s *apitest.Server, userID int64) {
	events := make([]calls.CallEvent, 1000)
	for i := range events {
		events[i] = calls.CallEvent{CallID: int64(i + 1), UserID: userID, ExternalID: fmt.Sprint(i),
			Created: true, Status: calls.StatusCompleted, At: time.Now()}
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		s.Notify.CallsChanged(ctx, events)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/batch")
}
